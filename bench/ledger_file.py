"""Child process: a ledger file of N events, for asking auditor questions at a size the
stream-fed runs cannot reach in a bench's time (ten million events).

The events go through the ledger's own ``ingest`` and ``LedgerStore.commit`` in batches,
exactly as the runner applies them, with the stream left out: the file holds the same
rows a consumer would have written. Events are generated one at a time (``stream``), so
the log is never held in memory. Progress goes to stderr. A file already there is reused
if it holds N events (opened once, so that registers a newer version changed are rebuilt),
and continued if it holds fewer (a fill that was stopped: the seed gives the same events).

    python -m bench.ledger_file '{"db": "/tmp/l.duckdb", "events": 10000000}'
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import child_args, emit
from bench.events import EventFactory, publication, stream
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import load_policy
from careledger.ledger.ingest.ingest import LogMessage, ingest

BATCH = 5000


def fill(db: Path, count: int, seed: int) -> dict[str, Any]:
    """Fill ``db`` with the first ``count`` events of the seed's stream; a file holding
    fewer (a fill that was stopped) is continued where its position is."""
    store = LedgerStore(db, load_policy())
    held = store.position().sequence
    if held >= count:
        store.close()
        return reuse(db, count)
    factory = EventFactory(random.Random(seed), subjects=max(1000, count // 8))
    if held:
        print(f"continuing a fill stopped at {held:,} of {count:,}", file=sys.stderr)
    started = time.perf_counter()
    try:
        rejected = _append(store, factory, held, count)
        store.checkpoint()
    finally:
        store.close()
    elapsed = time.perf_counter() - started
    return {
        "events": count,
        "continued_from": held,
        "rejected": rejected,
        "seconds": elapsed,
        "bytes": db.stat().st_size,
    }


def _append(store: LedgerStore, factory: EventFactory, held: int, count: int) -> int:
    """Events ``held + 1`` to ``count`` of the stream, committed in batches; rejections."""
    started = time.perf_counter()
    batch: list[LogMessage] = []
    rejected = 0
    for sequence, event in enumerate(stream(factory, count), start=1):
        if sequence <= held:  # the same seed and count give the same events again
            continue
        subject, data, headers = publication(event)
        # No stream here to stamp it: stored when its publisher says it recorded it.
        batch.append(LogMessage(sequence, subject, data, headers, recorded_at=event.recorded_at))
        if len(batch) == BATCH or sequence == count:
            position = store.position()
            outcome = ingest(batch, position, store)
            store.commit(outcome, position)
            rejected += len(outcome.rejected)
            batch = []
            if sequence % 500_000 == 0 or sequence == count:
                rate = (sequence - held) / (time.perf_counter() - started)
                print(f"filled {sequence:,} of {count:,} ({rate:,.0f}/s)", file=sys.stderr)
    return rejected


def reuse(db: Path, count: int) -> dict[str, Any]:
    """A file filled before: opening it brings every register up to this version of the
    code (the store rebuilds outdated projections from the events); it must hold ``count``."""
    started = time.perf_counter()
    store = LedgerStore(db, load_policy())
    held = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    store.close()
    if held != count:
        raise SystemExit(f"{db} holds {held:,} events, not {count:,}: remove it to fill again")
    return {"events": held, "reused": True, "seconds": time.perf_counter() - started}


def main() -> None:
    args = child_args()
    emit(fill(Path(args["db"]), int(args["events"]), int(args.get("seed", 20261123))))


if __name__ == "__main__":
    main()
