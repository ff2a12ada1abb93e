"""Child process: the peer — the Python ``eventsourcing`` library recording the same events.

Each CareLedger aggregate (contact, complaint, data subject) becomes an eventsourcing
aggregate with the same UUID; each CareLedger event becomes one domain event on it,
carrying the event's type and its JSON body. Persistence is eventsourcing's own SQLite
recorder (WAL, a file in the run's directory), which, like JetStream, enforces one
version per aggregate position (optimistic concurrency) on every insert.

Two ways of saving, the two an application would use:

- ``per_event``: ``app.save(aggregate)`` after each event — one transaction per command,
  like intake appending one event per request;
- ``batched``: ``app.save(*aggregates)`` once per ``batch`` events — one transaction per
  batch, like the ledger's commit.

Live aggregates stay in memory (no repository reads), so this times recording only.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from typing import Any

import msgspec

from bench.common import child_args, emit


def build(count: int, seed: int) -> list[tuple[str, str, dict[str, Any]]]:
    from bench.events import generate

    out = []
    for _, data, _ in generate(count, seed=seed).messages:
        body = msgspec.json.decode(data)
        kind = body["type"]
        key = body.get("complaint_id") if kind.startswith("Complaint") else None
        if kind.startswith("Contact"):
            key = body["contact_id"]
        out.append((key or body["subject_id"], kind, body))
    return out


def record(
    events: list[tuple[str, str, dict[str, Any]]], mode: str, batch: int, path: str
) -> float:
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = path
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Log(Aggregate):
        """One CareLedger aggregate's history."""

        @staticmethod
        def create_id(key: str) -> uuid.UUID:
            return uuid.UUID(key)

        @event("Started")
        def __init__(self, key: str, kind: str, body: dict[str, Any]) -> None:
            self.events = 1

        @event("Happened")
        def happen(self, kind: str, body: dict[str, Any]) -> None:
            self.events += 1

    app = Application()
    live: dict[str, Log] = {}
    dirty: dict[str, Log] = {}
    started = time.perf_counter()
    for i, (key, kind, body) in enumerate(events, 1):
        aggregate = live.get(key)
        if aggregate is None:
            aggregate = live[key] = Log(key=key, kind=kind, body=body)
        else:
            aggregate.happen(kind=kind, body=body)
        if mode == "per_event":
            app.save(aggregate)
        else:
            dirty[key] = aggregate
            if i % batch == 0:
                app.save(*dirty.values())
                dirty.clear()
    if dirty:
        app.save(*dirty.values())
    elapsed = time.perf_counter() - started
    app.close()
    return elapsed


def main() -> None:
    args = child_args()
    try:
        from importlib.metadata import version

        installed = version("eventsourcing")
    except Exception as exc:  # PackageNotFoundError
        emit({"skipped": f"eventsourcing is not installed: {exc}"})
        return
    events = build(int(args["count"]), int(args["seed"]))
    with tempfile.TemporaryDirectory(dir=args["dir"]) as work:
        elapsed = record(events, args["mode"], int(args["batch"]), f"{work}/peer.sqlite")
    emit(
        {
            "version": installed,
            "mode": args["mode"],
            "events": len(events),
            "seconds": elapsed,
            "per_s": len(events) / elapsed,
        }
    )


if __name__ == "__main__":
    main()
