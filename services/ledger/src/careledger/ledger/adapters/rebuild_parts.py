"""A rebuild folded by several processes, each over its own part of the events.

Every projection keys its rows by the id of one contact, consent, complaint or subject,
or by the event itself (the timeline, escalations), and an event changes only rows of
the id it names. So the events are split by that id (``_copy_events``): each row's
events all fall in one part, in log order, and each part's rows are exactly the full
rebuild's rows of its ids. The parts' tables are then appended together.

1. The events (sequence, subject, payload, hash, recorded_at, part) are copied to a
   Parquet file: a worker cannot open a DuckDB file another process holds, and the store
   holds it.
2. Each worker (``python -m`` this module) folds its part into a DuckDB file of its own,
   with the same ``fold`` as a rebuild in one process, and prints its progress.
3. This process appends each part's tables into ``target``, in the caller's transaction,
   and adds up the parts' tallies (each counts only its part's rows).

Folding is the cost (Python, one core per process; docs/performance.md, 'Tried, measured,
kept'). Each worker also pays its own start (imports) and the copy costs one pass over
the log, so below ``MIN_EVENTS`` one process is faster.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from careledger.ledger import duck
from careledger.ledger.deadlines import Policy, load_policy
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import Projection
from careledger.ledger.domain.projections import projections as projections_of
from careledger.ledger.duck import registered
from careledger.ledger.ingest import tables, tallies
from careledger.ledger.ingest.folding import COLUMNS, Progress, chunks, fold
from careledger.ledger.ingest.ingest import CONSENT_EVENTS, CONSENT_ID, CONSENT_TYPES

MIN_EVENTS = 100_000
WORKER_MEMORY = "128MB"  # as the store's own limit
ARROW_BATCH = 16_384
PROGRESS = "careledger-rebuild: "  # a worker's report lines; anything else on stdout is not one


class RebuildFailed(RuntimeError):
    """A worker failed; the rebuild changed nothing (the caller's transaction rolls back)."""


def default_workers() -> int:
    """One per core this process may run on (its CPU affinity, as a container's cpuset
    sets it; a CPU quota is not visible here: set the number where one applies)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worth_it(projections: Sequence[Projection], policy: Policy, total: int, workers: int) -> bool:
    """Several processes pay off for a large log, and can only rebuild the projections a
    worker builds itself from ``policy`` (a process receives names and the policy's
    sources, not code)."""
    known = {p.name: p for p in projections_of(policy)}
    return (
        workers > 1
        and total >= MIN_EVENTS
        and bool(projections)
        and all(known.get(p.name) == p for p in projections)
    )


def rebuild(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    projections: Sequence[Projection],
    policy: Policy,
    progress: Progress | None,
    workers: int,
    total: int,
) -> int:
    names = [p.name for p in projections]
    with _work_dir(source) as tmp:
        events = Path(tmp) / "events.parquet"
        _copy_events(source, events, workers)
        parts = [Path(tmp) / f"part-{i}.duckdb" for i in range(workers)]
        done = _run_workers(events, parts, names, dict(policy.sources), progress, total)
        for part in parts:
            _append(target, part, [t.name for p in projections for t in p.tables])
    for tally in (t for p in projections for t in p.tallies):
        tallies.collapse(target, tally)
    return done


def _work_dir(source: duckdb.DuckDBPyConnection) -> tempfile.TemporaryDirectory[str]:
    """Beside the ledger file (the copy of the log needs the room the log has; the system's
    temporary directory may be small), named after it. Only the process holding the file
    rebuilds it, so any such directory already there is left by one that was killed."""
    held = source.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if not held or not held[0][0]:  # an in-memory database
        return tempfile.TemporaryDirectory(prefix="careledger-rebuild-")
    file = Path(held[0][0])
    for stale in file.parent.glob(f"{file.name}.rebuild-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{file.name}.rebuild-", dir=file.parent)


def _copy_events(source: duckdb.DuckDBPyConnection, path: Path, workers: int) -> None:
    """One pass in DuckDB (no Python per event); ``hash`` only has to agree within it.

    The part comes from columns the ledger wrote from the decoded event (``type``,
    ``aggregate_id``), except for consent events: their rows are keyed by a consent id no
    column holds, so it is read from the payload's JSON. Ingest refuses a consent event
    whose JSON names another id than it decodes to (a repeated key: msgspec keeps the last,
    DuckDB the first), and each worker checks its consent events again (``_checked``: a
    file written before that rule; one SQL cannot read goes to part 0); a mismatch fails
    the workers and the rebuild runs in one process."""
    part = (
        f"CASE WHEN type IN {CONSENT_TYPES} THEN coalesce(hash({CONSENT_ID}) % {int(workers)}, 0) "
        f"ELSE hash(aggregate_id) % {int(workers)} END"
    )
    # In any order (workers read by ranges of sequences): kept in order, the copy buffered
    # whole row groups of payloads per thread, and a large file written with DuckDB's
    # default 122,880-row groups ran out of the store's memory limit (docs/decisions.md).
    source.execute("SET preserve_insertion_order = false")
    try:
        source.execute(
            f"COPY (SELECT {COLUMNS}, {part} AS part FROM events) "
            f"TO {_quoted(path)} (FORMAT parquet, ROW_GROUP_SIZE 16384)"
        )
    finally:
        source.execute("RESET preserve_insertion_order")  # appends keep the log's order


def _run_workers(
    events: Path,
    parts: list[Path],
    names: list[str],
    sources: dict[str, str],
    progress: Progress | None,
    total: int,
) -> int:
    """One ``python -m`` process per part (not multiprocessing: a spawned child imports
    the parent's main module again, which a host program such as a test runner or an
    ASGI server does not expect), each printing its progress on stdout."""
    reports: queue.Queue[tuple[int, str | None]] = queue.Queue()
    processes, relays = [], []
    try:
        for i, part in enumerate(parts):
            job = {
                "events": str(events),
                "part": i,
                "parts": len(parts),
                "out": str(part),
                "projections": names,
                "policy": sources,
            }
            with part.with_suffix(".log").open("w") as errors:  # a pipe left unread could fill
                process = subprocess.Popen(
                    [sys.executable, "-m", __name__, json.dumps(job)],
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    text=True,
                )
            processes.append(process)
            relays.append(threading.Thread(target=_relay, args=(i, process, reports), daemon=True))
            relays[-1].start()
        return _collect(reports, processes, [p.with_suffix(".log") for p in parts], progress, total)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for relay in relays:
            relay.join()


def _relay(
    part: int, process: subprocess.Popen[str], reports: queue.Queue[tuple[int, str | None]]
) -> None:
    """A worker's progress lines, then None once its output ends (whatever ends it)."""
    assert process.stdout is not None
    try:
        with process.stdout:
            for line in process.stdout:
                if line.startswith(PROGRESS):
                    reports.put((part, line.removeprefix(PROGRESS).strip()))
    finally:
        reports.put((part, None))


def _collect(
    reports: queue.Queue[tuple[int, str | None]],
    processes: list[subprocess.Popen[str]],
    logs: list[Path],
    progress: Progress | None,
    total: int,
) -> int:
    """Sum the workers' progress until each has said it finished; a failure ends it."""
    applied: dict[int, int] = {}
    finished: set[int] = set()
    ended = 0
    while ended < len(processes):
        part, line = reports.get()
        if line is None:
            ended += 1
            if part not in finished:
                code, error = processes[part].wait(), logs[part].read_text().strip()
                raise RebuildFailed(f"rebuild worker {part} exited with {code}: {error[-2000:]}")
            continue
        kind, count = line.split()
        applied[part] = int(count)
        if kind == "finished":
            finished.add(part)
        if progress:
            progress(sum(applied.values()), total)
    return sum(applied.values())


def work(
    events: str, part: int, parts: int, out: str, names: list[str], sources: dict[str, str]
) -> None:
    """Fold part ``part`` of the events into a DuckDB file of its own (in a worker), with
    the projections of the policy loaded from ``sources`` (the parent's variables)."""
    projections = [p for p in projections_of(load_policy(sources)) if p.name in names]
    target = _quiet(duck.attached(out, "part"))
    target.execute("SET GLOBAL TimeZone = 'UTC'")
    for projection in projections:
        tables.create(target, projection)
    reader = _quiet(duckdb.connect(config={"temp_directory": f"{out}.reader.tmp"}))
    reader.execute("SET TimeZone = 'UTC'")  # the recorded instants, read as the store reads them
    relation = f"read_parquet({_quoted(Path(events))})"
    first, last = reader.execute(
        f"SELECT coalesce(min(sequence), 1), coalesce(max(sequence), 0) FROM {relation}"
    ).fetchall()[0]
    batches = _checked(
        chunks(reader, relation, first, last, f"part = {int(part)}"), reader, part, parts
    )
    # A worker whose rebuild was killed stops at its next report: nobody reads the pipe.
    # One transaction: a projection deletes the rows it replaces by rowid only inside the
    # transaction that read them (``RowProjection``), where no checkpoint can move them.
    target.execute("BEGIN TRANSACTION")
    done = fold(batches, target, projections, lambda n, _: _report("applied", n))
    target.execute("COMMIT")
    target.execute("CHECKPOINT")
    target.close()
    reader.close()
    _report("finished", done)


def _checked(
    batches: Iterator[list[Applied]], con: duckdb.DuckDBPyConnection, part: int, parts: int
) -> Iterator[list[Applied]]:
    """The batches, once their consent events are known to belong to ``part`` as decoded."""
    for batch in batches:
        ids = [a.event.consent_id for a in batch if isinstance(a.event, CONSENT_EVENTS)]
        if ids:
            found = con.execute(
                "SELECT DISTINCT hash(i) % ? FROM unnest(?) AS t(i)", [parts, ids]
            ).fetchall()
            if {row[0] for row in found} != {part}:
                raise SystemExit(
                    f"part {part}: a consent event's payload names another consent id in its "
                    "JSON than it decodes to (a repeated key?); rebuild in one process"
                )
        yield batch


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Bounded, and without DuckDB's progress bar: it draws on stdout, where the worker
    reports its own progress."""
    con.execute(f"SET memory_limit = '{WORKER_MEMORY}'")
    con.execute("SET enable_progress_bar = false")
    return con


def _report(kind: str, events: int) -> None:
    print(f"{PROGRESS}{kind} {events}", flush=True)


def _append(target: duckdb.DuckDBPyConnection, part: Path, names: list[str]) -> None:
    """Each table of a part appended to ``target``, streamed as Arrow batches (a database
    attached inside the caller's transaction could not be detached before it ends)."""
    con = duckdb.connect(str(part), read_only=True)
    try:
        for name in names:
            rows = con.sql(f"SELECT * FROM {name}").to_arrow_reader(ARROW_BATCH)
            with registered(target, "part_rows", rows):
                target.execute(f"INSERT INTO {name} SELECT * FROM part_rows")
    finally:
        con.close()


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    work(job["events"], job["part"], job["parts"], job["out"], job["projections"], job["policy"])
