"""A tally's table in DuckDB: kept as its register changes, counted from scratch, or
collapsed after the parts of a rebuild in parts each tallied their own rows.

What a row counts is the domain's (``careledger.ledger.domain.tally``); here only the
tally rows of the keys a batch touched are read and written. (A first version defined
tallies as SQL over the rows and ran it on each batch's Arrow rows: DuckDB's fixed cost
per statement made that a large part of the ledger's ingest; docs/performance.md, 'Tried,
measured, kept'.)
"""

from collections.abc import Mapping

import duckdb
import pyarrow as pa

from careledger.ledger.domain.rows import Key, Row, Table
from careledger.ledger.domain.tally import Counts, Tally
from careledger.ledger.duck import registered
from careledger.ledger.ingest.arrow import arrow_schema, columns

BATCH = 50_000


def add(
    con: duckdb.DuckDBPyConnection,
    tally: Tally,
    before: Mapping[Key, Row],
    after: Mapping[Key, Row],
) -> None:
    """Count the rows of the register a batch wrote (``after``) and uncount the rows
    they replaced (``before``)."""
    _merge(con, tally, tally.delta(before, after))


def recompute(con: duckdb.DuckDBPyConnection, tally: Tally, source: Table) -> None:
    """The tally counted from every row its register (``source``) holds."""
    con.execute(f"DELETE FROM {tally.name}")
    counts: Counts = {}
    con.execute(f"SELECT {', '.join(tally.reads)} FROM {source.name}")
    while found := con.fetchmany(BATCH):  # in the caller's transaction
        for values in found:
            tally.counted(counts, dict(zip(tally.reads, values, strict=True)), 1)
    _insert(con, tally, counts)


def collapse(con: duckdb.DuckDBPyConnection, tally: Tally) -> None:
    """One row per key, summing rows that tallied parts of the register apart."""
    columns = tally.table.columns
    key = ", ".join(tally.table.key)
    sums = ", ".join(f"CAST(sum({m}) AS {columns[m]}) AS {m}" for m in tally.measures)
    summed = con.sql(f"SELECT {key}, {sums} FROM {tally.name} GROUP BY {key}").to_arrow_table()
    con.execute(f"DELETE FROM {tally.name}")
    with registered(con, "tally_rows", summed):
        con.execute(f"INSERT INTO {tally.name} SELECT * FROM tally_rows")


def _merge(con: duckdb.DuckDBPyConnection, tally: Tally, delta: Counts) -> None:
    """Add ``delta`` to the tally rows of its keys."""
    if not delta:
        return
    keys = _rows(tally, delta, tally.table.key)
    same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM d.{k}" for k in tally.table.key)
    width = len(tally.table.key)
    with registered(con, "tally_keys", keys):
        held = con.execute(
            f"DELETE FROM {tally.name} t USING tally_keys d WHERE {same} RETURNING t.*"
        ).fetchall()
    for row in held:
        sums = delta[row[:width]]
        for i, value in enumerate(row[width:]):
            sums[i] += value
    _insert(con, tally, {key: sums for key, sums in delta.items() if any(sums)})


def _insert(con: duckdb.DuckDBPyConnection, tally: Tally, counts: Counts) -> None:
    if counts:
        with registered(con, "tally_rows", _rows(tally, counts, tuple(tally.table.columns))):
            con.execute(f"INSERT INTO {tally.name} SELECT * FROM tally_rows")


def _rows(tally: Tally, counts: Counts, names: tuple[str, ...]) -> pa.Table:
    """``names`` of the tally's columns, one row per key of ``counts``."""
    rows = [
        dict(zip(tally.table.columns, (*key, *sums), strict=True)) for key, sums in counts.items()
    ]
    full = arrow_schema(tally.table)
    return columns(rows, pa.schema([full.field(name) for name in names]))
