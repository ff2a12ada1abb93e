"""Child process: a ledger file of N events, for asking auditor questions at a size the
stream-fed runs cannot reach in a bench's time (ten million events).

The events go through the ledger's own ``ingest`` and ``LedgerStore.commit`` in batches,
exactly as the runner applies them, with the stream left out: the file holds the same
rows a consumer would have written. Events are generated one at a time (``stream``), so
the log is never held in memory. Progress goes to stderr. A file already there is reused
if it holds N events (opened once, so that registers a newer version changed are rebuilt,
and a file filled before the Merkle tree existed gets its tree: the result says how long
that open took), and continued if it holds fewer (a fill that was stopped: the seed gives
the same events).

    python -m bench.ledger_file '{"db": "/tmp/l.duckdb", "events": 10000000}'
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.common import child_args, emit
from bench.events import EventFactory, publication, stream
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import load_policy
from careledger.ledger.ingest.ingest import LogMessage, ingest

BATCH = 5000


@dataclass(frozen=True)
class Opened:
    """The store open, how long opening it took, and the events the Merkle tree was planted
    over in that open (0: it had its tree, or no events)."""

    store: LedgerStore
    seconds: float
    planted: int

    def report(self) -> dict[str, Any]:
        if not self.planted:
            return {}
        return {"opened_s": self.seconds, "tree_planted_over": self.planted}


def open_store(db: Path) -> Opened:
    """``db`` opened as the ledger opens it (registers brought up to date, the tree planted)."""
    planted = _without_tree(db)
    started = time.perf_counter()
    store = LedgerStore(db, load_policy())
    return Opened(store, time.perf_counter() - started, planted)


def _without_tree(db: Path) -> int:
    """The events of a file written before the Merkle tree existed (opening it plants one);
    0 for a file with its tree, an empty one or none."""
    if not db.exists():
        return 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if "events" not in tables:
            return 0
        if (
            "tree_leaves" in tables
            and con.execute("SELECT count(*) FROM tree_leaves").fetchall()[0][0]
        ):
            return 0
        return int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    finally:
        con.close()


def fill(db: Path, count: int, seed: int) -> dict[str, Any]:
    """Fill ``db`` with the first ``count`` events of the seed's stream; a file holding
    fewer (a fill that was stopped) is continued where its position is."""
    opened = open_store(db)
    store = opened.store
    held = store.position().sequence
    if held >= count:
        return _reused(opened, count)
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
    } | opened.report()


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
    code (the store rebuilds outdated projections from the events, and plants the Merkle
    tree in a file filled before it existed); it must hold ``count``."""
    return _reused(open_store(db), count)


def _reused(opened: Opened, count: int) -> dict[str, Any]:
    store = opened.store
    held = store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    store.close()
    if held != count:
        raise SystemExit(
            f"{store.path} holds {held:,} events, not {count:,}: remove it to fill again"
        )
    return {"events": held, "reused": True, "seconds": opened.seconds} | opened.report()


def main() -> None:
    args = child_args()
    emit(fill(Path(args["db"]), int(args["events"]), int(args.get("seed", 20261123))))


if __name__ == "__main__":
    main()
