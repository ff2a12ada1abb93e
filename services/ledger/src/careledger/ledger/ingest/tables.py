"""A projection's table in DuckDB: create it, and apply a batch to it set-wise.

Once per batch and table: one SELECT of the touched rows, the pure fold
(``RowProjection.fold``), one DELETE of the rows it replaces and one columnar INSERT
(Arrow). The same code serves the live consumer, a rebuild and an as-of replay, so all
give the same rows. An ``EventProjection`` (one row per event, never changed) skips the
load and the delete: its rows are only inserted.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import EventProjection, Projection, RowProjection, snapshot
from careledger.ledger.domain.rows import Key, Rows, Table
from careledger.ledger.duck import registered
from careledger.ledger.ingest import tallies
from careledger.ledger.ingest.arrow import ARROW_TYPES, arrow_schema, column_table, columns


def create(con: duckdb.DuckDBPyConnection, projection: Projection) -> None:
    """Its table and its tallies' tables, if missing."""
    for table in projection.tables:
        con.execute(table.ddl())


def apply(con: duckdb.DuckDBPyConnection, projection: Projection, batch: Sequence[Applied]) -> None:
    """The events of ``batch`` that ``projection`` handles, applied to its table."""
    relevant = projection.relevant(batch)
    if not relevant:
        return
    if isinstance(projection, EventProjection):
        insert(
            con, projection.table, column_table(projection.columns_of(relevant), projection.table)
        )
    elif isinstance(projection, RowProjection):
        _apply_rows(con, projection, relevant)
    else:
        raise TypeError(f"{projection.name}: no way to apply a {type(projection).__name__}")


def _apply_rows(
    con: duckdb.DuckDBPyConnection, projection: RowProjection, relevant: Sequence[Applied]
) -> None:
    keys = {k for a in relevant for k in projection.keys_of(a)}
    loaded = Loaded() if projection.fresh else _load(con, projection, keys)
    before = {key: snapshot(row) for key, row in loaded.rows.items()}
    rows = projection.fold(loaded.rows, relevant)
    changed = {key: row for key, row in rows.items() if before.get(key) != row}
    if changed:
        for tally in projection.tallies:
            tallies.add(con, tally, before, changed)
        table = projection.table
        _delete(con, table, loaded, [key for key in changed if key in before])
        insert(con, table, columns(list(changed.values()), arrow_schema(table)))


@dataclass
class Loaded:
    """Rows read for a batch, with their rowids and the transaction that read them."""

    rows: Rows = field(default_factory=dict)
    rowids: dict[Key, int] = field(default_factory=dict)
    transaction: int | None = None


def _load(con: duckdb.DuckDBPyConnection, projection: RowProjection, keys: set[Key]) -> Loaded:
    """The rows of ``keys``: found by their key columns alone, then read whole by rowid.
    A row an event changes was mostly written lately, at the table's end, so its row
    group is the one read whole, where a join read every column of every row group
    (docs/performance.md, 'Tried, measured, kept')."""
    if not keys:
        return Loaded()
    table = projection.table
    names = list(table.columns)
    join = " AND ".join(f"t.{k} = k.{k}" for k in projection.lookup)
    with registered(con, "touched_keys", _keys_arrow(table, keys, projection.lookup)):
        result = con.execute(
            f"SELECT txid_current(), rowid, {', '.join(names)} FROM {table.name} "
            f"WHERE rowid IN (SELECT t.rowid FROM {table.name} t "
            f"JOIN touched_keys k ON {join})"
        ).fetchall()
    loaded = Loaded(transaction=result[0][0] if result else None)
    for _, rowid, *values in result:
        row = dict(zip(names, values, strict=True))
        key = table.key_of(row)
        loaded.rows[key], loaded.rowids[key] = row, rowid
    return loaded


def _delete(con: duckdb.DuckDBPyConnection, table: Table, loaded: Loaded, keys: list[Key]) -> None:
    """Delete the rows of ``keys`` as loaded: by their rowids while the transaction that
    read them is still the one running, so no checkpoint can have moved them (a rebuild
    in parts, a replay, or anything else in autocommit deletes by key)."""
    if not keys:
        return
    if loaded.transaction == con.execute("SELECT txid_current()").fetchall()[0][0]:
        con.execute(
            f"DELETE FROM {table.name} WHERE rowid IN (SELECT unnest(?::BIGINT[]))",
            [[loaded.rowids[key] for key in keys]],
        )
        return
    join = " AND ".join(f"{table.name}.{k} = r.{k}" for k in table.key)
    with registered(con, "replaced_keys", _keys_arrow(table, keys, table.key)):
        con.execute(f"DELETE FROM {table.name} USING replaced_keys r WHERE {join}")


def _keys_arrow(table: Table, keys: Iterable[Key], names: tuple[str, ...]) -> pa.Table:
    schema = pa.schema([(k, ARROW_TYPES[table.columns[k]]) for k in names])
    keys = list(keys)
    return pa.Table.from_arrays(
        [pa.array([key[i] for key in keys], type=f.type) for i, f in enumerate(schema)],
        schema=schema,
    )


def insert(con: duckdb.DuckDBPyConnection, table: Table, rows: pa.Table) -> None:
    with registered(con, "fresh_rows", rows):
        con.execute(f"INSERT INTO {table.name} SELECT * FROM fresh_rows")
