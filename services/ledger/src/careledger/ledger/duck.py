"""DuckDB plumbing every layer shares."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

SCRATCH_SPILL = Path(tempfile.gettempdir()) / "careledger-duckdb"
# DuckDB's default is 122,880 rows. A checkpoint rewrites the row group it last left
# partly filled, so with the default every checkpoint of the events table rewrote up to
# 120k rows of payload it had written before. Smaller groups make each checkpoint rewrite
# less, in the store's commits and in a rebuild worker's fold alike (docs/performance.md,
# 'Tried, measured, kept'). A property of the attachment, not the file: set on each open.
ROW_GROUP_SIZE = 16_384


def attached(path: str, database: str) -> duckdb.DuckDBPyConnection:
    """The file at ``path`` attached as the connection's database ``database`` with
    ``ROW_GROUP_SIZE`` (``duckdb.connect(path)`` takes no row group size). What DuckDB
    spills beyond the memory limit goes beside the file, as it would for
    ``connect(path)``: an in-memory connection spills to ``.tmp`` in the working
    directory, which may be read-only or another disk."""
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    quoted = "'" + path.replace("'", "''") + "'"
    con.execute(f"ATTACH {quoted} AS {_identifier(database)} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
    con.execute(f"USE {_identifier(database)}")
    return con


def scratch(memory_limit: str) -> duckdb.DuckDBPyConnection:
    """A throwaway in-memory database (a replay, a comparison), holding at most
    ``memory_limit`` and spilling beyond it to the system's temporary directory: an
    in-memory connection otherwise spills to ``.tmp`` in the working directory, which
    may be read-only or another disk. Timestamps read back in UTC."""
    con = duckdb.connect(":memory:", config={"temp_directory": str(SCRATCH_SPILL)})
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET TimeZone = 'UTC'")
    return con


def cursor(
    con: duckdb.DuckDBPyConnection, database: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A cursor (a connection of its own, for another thread or a result held open) on
    ``database``, by default the one ``con`` is using: a new cursor starts in DuckDB's
    default catalog, which is not the ledger's when the store attached its file
    (``LedgerStore``). Name the database when another thread may be using ``con``: asking
    ``con`` which one it uses is a query, and a busy connection refuses it."""
    if database is None:
        database = con.execute("SELECT current_database()").fetchall()[0][0]
    new = con.cursor()
    new.execute(f"USE {_identifier(database)}")
    return new


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def registered(
    con: duckdb.DuckDBPyConnection, name: str, table: pa.Table | pa.RecordBatchReader
) -> Iterator[None]:
    """Expose Arrow data to SQL under ``name`` for the duration of the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)
