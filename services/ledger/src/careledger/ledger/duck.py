"""DuckDB plumbing every layer shares."""

import duckdb


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
