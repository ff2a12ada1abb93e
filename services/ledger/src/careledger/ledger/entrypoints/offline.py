"""Commands that work on files rather than the running ledger: rebuild and snapshot SQL."""

import contextlib
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import Policy
from careledger.ledger.ingest.rebuild import rebuild_projections


class ProgressBar:
    """A one-line progress bar on stderr: done/total, rate and a bar."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        rate = done / max(time.monotonic() - self.started, 1e-9)
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{total} ({rate:,.0f}/s)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def rebuild(db: Path, policy: Policy, workers: int = 1) -> int:
    try:
        store = LedgerStore(db, policy)
    except duckdb.IOException as exc:
        print(
            f"careledger: cannot open {db}: {exc}\nStop the ledger first: it holds the file.",
            file=sys.stderr,
        )
        return 2
    try:
        with store.transaction():
            done = rebuild_projections(
                store.con,
                store.con,
                store.projections,
                ProgressBar("rebuilding"),
                workers,
                policy,
            )
    finally:
        store.close()
    print(f"rebuilt every projection from {done} events in {db}")
    return 0


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one ``audit sql`` query may spend: wall time, DuckDB memory, rows answered."""

    seconds: float = 10.0
    memory: str = "256MB"
    rows: int = 10_000


def sql(snapshot: Path, query: str, limits: Limits | None = None) -> dict[str, Any]:
    """Run one SELECT over the Parquet files of an export, in a fresh in-memory database
    that can read those files and nothing else: no other file, directory, URL or extension,
    with its configuration locked, its memory bounded and the query interrupted at the limit.
    """
    limits = limits or Limits()
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        return _refused("valid_sql", f"DuckDB cannot parse the query: {_first_line(exc)}")
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        return _refused("select_only", "give exactly one SELECT statement; nothing else runs here")
    try:
        con = duckdb.connect(":memory:", config=_config(limits.memory))
    except duckdb.Error as exc:
        message = f"{limits.memory!r} is not a memory size such as 256MB: {_first_line(exc)}"
        return _refused("memory_limit", message, field="memory_limit")
    timer = threading.Timer(limits.seconds, _interrupt, [con])
    timer.daemon = True
    timer.start()
    try:
        _shut_in(con, snapshot)
        result = con.execute(query)
        columns = [d[0] for d in result.description or ()]
        rows = result.fetchmany(limits.rows + 1)
    except duckdb.Error as exc:
        return _refusal(exc, limits)
    finally:
        timer.cancel()
        con.close()
    if len(rows) > limits.rows:
        message = f"the answer has more than {limits.rows} rows; aggregate, filter or add LIMIT"
        return _refused("row_limit", message)
    return {"snapshot": str(snapshot), "rows": [dict(zip(columns, r, strict=True)) for r in rows]}


def _config(memory: str) -> dict[str, str | bool | int | float | list[str]]:
    return {
        "memory_limit": memory,
        "temp_directory": "",  # nothing spills to disk: the memory limit is the limit
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
    }


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # the query may have ended, and con closed
        con.interrupt()


def _shut_in(con: duckdb.DuckDBPyConnection, snapshot: Path) -> None:
    """A view per Parquet file of the export; then every other door shut, and locked."""
    files = [f.resolve() for f in sorted(snapshot.glob("*.parquet")) if not f.is_symlink()]
    con.execute("SET allowed_paths = ?", [[str(f) for f in files]])
    for file in files:
        view = file.stem.replace('"', '""')
        path = str(file).replace("'", "''")
        con.execute(f"CREATE VIEW \"{view}\" AS SELECT * FROM read_parquet('{path}')")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _refusal(exc: duckdb.Error, limits: Limits) -> dict[str, Any]:
    """The rule a failed query broke, in words an auditor can act on."""
    wants_extension = isinstance(exc, duckdb.CatalogException) and "exists in the" in str(exc)
    if isinstance(exc, duckdb.PermissionException) or wants_extension:
        message = "only the export's Parquet files can be read: no other file, directory, URL"
        return _refused("external_access", f"{message} or extension ({_first_line(exc)})")
    if isinstance(exc, duckdb.InterruptException):
        message = f"stopped after {limits.seconds:g} s; filter, aggregate or add LIMIT"
        return _refused("time_limit", message)
    if isinstance(exc, duckdb.OutOfMemoryException):
        message = f"needs more than {limits.memory} of memory; filter, aggregate or add LIMIT"
        return _refused("memory_limit", message)
    return _refused("valid_sql", f"DuckDB refused the query: {_first_line(exc)}")


def _refused(rule: str, message: str, field: str = "query") -> dict[str, Any]:
    return {"http_status": 400, "errors": [{"field": field, "rule": rule, "message": message}]}


def _first_line(exc: Exception) -> str:
    return str(exc).split("\n")[0]
