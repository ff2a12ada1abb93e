"""How a projection keeps its table: load the touched rows, fold the batch, write back.

A projection is pure where it matters: ``evolve(rows, applied)`` updates a dict of rows
(key -> row dict) from one event. This module does the I/O set-wise, once per batch and
table: one SELECT of the touched keys, one DELETE and one columnar INSERT (Arrow). The
same code serves the live consumer and a rebuild, so both give the same rows.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from careledger.ledger.application.applied import Applied

Row = dict[str, Any]
Key = tuple[Any, ...]
Rows = dict[Key, Row]

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "VARCHAR[]": pa.list_(pa.string()),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DECIMAL(18,4)": pa.decimal128(18, 4),
}


@dataclass(frozen=True)
class Table:
    """A projection table: name, ordered columns (name -> DuckDB type), key columns."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{name} {kind}" for name, kind in self.columns.items())
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols},\n"
            f"  PRIMARY KEY ({', '.join(self.key)})\n)"
        )

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(n, ARROW_TYPES[t]) for n, t in self.columns.items()])

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key)


@dataclass(frozen=True)
class RowProjection:
    """A register kept as one table, maintained from the events it ``handles``.

    By default ``keys_of`` names rows (full keys) and ``evolve`` sees every loaded row.
    With ``scope`` (a prefix of the key, e.g. ``("complaint_id",)``) ``keys_of`` names
    scopes instead: every row of each touched scope is loaded, and ``evolve`` sees the
    rows of one scope at a time.
    """

    table: Table
    handles: tuple[type, ...]
    keys_of: Callable[[Applied], Iterable[Key]]
    evolve: Callable[[Rows, Applied], None]
    scope: tuple[str, ...] = ()

    @property
    def lookup(self) -> tuple[str, ...]:
        """The columns ``keys_of`` names."""
        return self.scope or self.table.key

    @property
    def name(self) -> str:
        return self.table.name

    def create(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(self.table.ddl())

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Sequence[Applied]) -> None:
        relevant = [a for a in batch if isinstance(a.event, self.handles)]
        if not relevant:
            return
        rows = self._load(con, {key for a in relevant for key in self.keys_of(a)})
        before = {key: _snapshot(row) for key, row in rows.items()}
        if self.scope:
            rows = self._evolve_by_scope(rows, relevant)
        else:
            for applied in relevant:
                self.evolve(rows, applied)
        changed = {key: row for key, row in rows.items() if before.get(key) != row}
        if changed:
            self._save(con, [key for key in changed if key in before], list(changed.values()))

    def _evolve_by_scope(self, rows: Rows, relevant: Sequence[Applied]) -> Rows:
        groups: dict[Key, Rows] = {}
        for key, row in rows.items():
            groups.setdefault(key[: len(self.scope)], {})[key] = row
        for applied in relevant:
            for scope in self.keys_of(applied):
                self.evolve(groups.setdefault(scope, {}), applied)
        return {key: row for group in groups.values() for key, row in group.items()}

    def _load(self, con: duckdb.DuckDBPyConnection, keys: set[Key]) -> Rows:
        if not keys:
            return {}
        names = list(self.table.columns)
        cols = ", ".join(f"t.{c}" for c in names)
        join = " AND ".join(f"t.{k} = k.{k}" for k in self.lookup)
        with registered(con, "touched_keys", self._keys_arrow(keys, self.lookup)):
            result = con.execute(
                f"SELECT {cols} FROM {self.table.name} t JOIN touched_keys k ON {join}"
            ).fetchall()
        return {
            self.table.key_of(row): row
            for row in (dict(zip(names, r, strict=True)) for r in result)
        }

    def _save(self, con: duckdb.DuckDBPyConnection, replaced: list[Key], rows: list[Row]) -> None:
        if replaced:
            join = " AND ".join(f"{self.table.name}.{k} = r.{k}" for k in self.table.key)
            with registered(con, "replaced_keys", self._keys_arrow(replaced, self.table.key)):
                con.execute(f"DELETE FROM {self.table.name} USING replaced_keys r WHERE {join}")
        fresh = pa.Table.from_pylist(rows, schema=self.table.arrow_schema())
        with registered(con, "fresh_rows", fresh):
            con.execute(f"INSERT INTO {self.table.name} SELECT * FROM fresh_rows")

    def _keys_arrow(self, keys: Iterable[Key], columns: tuple[str, ...]) -> pa.Table:
        schema = pa.schema([(k, ARROW_TYPES[self.table.columns[k]]) for k in columns])
        return pa.Table.from_pylist(
            [dict(zip(columns, key, strict=True)) for key in keys], schema=schema
        )


def _snapshot(row: Row) -> Row:
    """A copy of a loaded row that an in-place change (``row["event_ids"].append``) misses."""
    return {name: list(value) if isinstance(value, list) else value for name, value in row.items()}


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """Expose an Arrow table to SQL under ``name`` for the duration of the block."""
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)
