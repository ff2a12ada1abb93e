"""How a projection keeps its table: load the touched rows, fold the batch, write back.

A projection is pure where it matters: ``evolve(rows, applied)`` updates a dict of rows
(key -> row dict) from one event. This module does the I/O set-wise, once per batch and
table: one SELECT of the touched rows, one DELETE and one columnar INSERT (Arrow). The
same code serves the live consumer and a rebuild, so both give the same rows.

A register of one row per event, never changed (the timeline), skips all of that: an
``EventProjection`` builds the batch's columns from the events and only inserts them.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from careledger.contracts.events import EVENT_TYPES
from careledger.ledger.application.applied import Applied

if TYPE_CHECKING:
    from careledger.ledger.projections._tally import Tally

Row = dict[str, Any]
Key = tuple[Any, ...]
Rows = dict[Key, Row]

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "VARCHAR[]": pa.list_(pa.string()),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "UINTEGER": pa.uint32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DECIMAL(18,4)": pa.decimal128(18, 4),
    "DECIMAL(38,4)": pa.decimal128(38, 4),
}


@dataclass(frozen=True)
class Table:
    """A projection table: name, ordered columns (name -> DuckDB type), key columns."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]

    def ddl(self) -> str:
        """No PRIMARY KEY index: ``RowProjection.apply`` keeps keys unique (it loads every
        touched key, deletes the rows it replaces, inserts each key once), and the index
        grew memory with the table and made every checkpoint rewrite it whole."""
        cols = ",\n  ".join(f"{name} {kind}" for name, kind in self.columns.items())
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(n, ARROW_TYPES[t]) for n, t in self.columns.items()])

    def key_of(self, row: Row) -> Key:
        return tuple(row[k] for k in self.key)


@dataclass(frozen=True)
class Projection:
    """A register kept as one table, maintained from the events it ``handles``.

    ``version`` changes whenever the rows the same events give change (a new rule, a fixed
    one), so that a ledger file written before is rebuilt on open (``LedgerStore``).
    ``tallies`` are kept from its rows as they change (``_tally``; a ``RowProjection``'s).
    """

    table: Table
    handles: tuple[type, ...]
    version: int = field(default=1, kw_only=True)
    tallies: tuple["Tally", ...] = field(default=(), kw_only=True)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def tables(self) -> tuple[Table, ...]:
        """Its table, then its tallies' tables."""
        return (self.table, *(tally.table for tally in self.tallies))

    def create(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in self.tables:
            con.execute(table.ddl())

    @cached_property
    def _types(self) -> frozenset[type]:
        """The event types it handles, by exact type: a set lookup per event of a batch,
        where ``isinstance`` walked each event's classes."""
        return frozenset(t for t in EVENT_TYPES if issubclass(t, self.handles))

    def relevant(self, batch: Sequence[Applied]) -> list[Applied]:
        """The events of ``batch`` it handles, in log order."""
        types = self._types
        return [a for a in batch if type(a.event) in types]

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Sequence[Applied]) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class EventProjection(Projection):
    """One row per event it handles, never changed afterwards (the timeline).

    ``columns_of`` gives the batch's rows column by column (name -> one value per event):
    nothing is loaded, and no row is built as a dict, where a row dict and its conversion
    cost more than the rest of a timeline row's work. The key is the event's own (its
    stream sequence), which the ledger applies once, so the rows are only inserted.
    """

    columns_of: Callable[[Sequence[Applied]], dict[str, list[Any]]]

    def __post_init__(self) -> None:
        if self.tallies:
            raise ValueError(f"{self.name}: only a RowProjection keeps tallies")

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Sequence[Applied]) -> None:
        relevant = self.relevant(batch)
        if relevant:
            insert(con, self.table, column_table(self.columns_of(relevant), self.table))


@dataclass(frozen=True)
class RowProjection(Projection):
    """A register whose rows events change: load the touched rows, fold, write back.

    By default ``keys_of`` names rows (full keys) and ``evolve`` sees every loaded row.
    With ``scope`` (a prefix of the key, e.g. ``("complaint_id",)``) ``keys_of`` names
    scopes instead: every row of each touched scope is loaded, and ``evolve`` sees the
    rows of one scope at a time.

    ``fresh`` says that no earlier batch can hold a key ``keys_of`` names (the key is the
    event's own stream sequence or event id, which the ledger applies once): nothing is
    loaded or deleted, the batch's rows are only inserted.
    """

    keys_of: Callable[[Applied], Iterable[Key]]
    evolve: Callable[[Rows, Applied], None]
    scope: tuple[str, ...] = ()
    fresh: bool = False

    @property
    def lookup(self) -> tuple[str, ...]:
        """The columns ``keys_of`` names."""
        return self.scope or self.table.key

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Sequence[Applied]) -> None:
        relevant = self.relevant(batch)
        if not relevant:
            return
        keys = {k for a in relevant for k in self.keys_of(a)}
        loaded = Loaded() if self.fresh else self._load(con, keys)
        rows = loaded.rows
        before = {key: _snapshot(row) for key, row in rows.items()}
        if self.scope:
            rows = self._evolve_by_scope(rows, relevant)
        else:
            for applied in relevant:
                self.evolve(rows, applied)
        changed = {key: row for key, row in rows.items() if before.get(key) != row}
        if changed:
            for tally in self.tallies:
                tally.add(con, before, changed)
            self._delete(con, loaded, [key for key in changed if key in before])
            insert(con, self.table, columns(list(changed.values()), self.table.arrow_schema()))

    def _evolve_by_scope(self, rows: Rows, relevant: Sequence[Applied]) -> Rows:
        groups: dict[Key, Rows] = {}
        for key, row in rows.items():
            groups.setdefault(key[: len(self.scope)], {})[key] = row
        for applied in relevant:
            for scope in self.keys_of(applied):
                self.evolve(groups.setdefault(scope, {}), applied)
        return {key: row for group in groups.values() for key, row in group.items()}

    def _load(self, con: duckdb.DuckDBPyConnection, keys: set[Key]) -> "Loaded":
        """The rows of ``keys``: found by their key columns alone, then read whole by rowid.
        A row an event changes was mostly written lately, at the table's end, so its row
        group is the one read whole; a join that read every column of every row group
        took twice as long at 1M events (docs/performance.md)."""
        if not keys:
            return Loaded()
        names = list(self.table.columns)
        join = " AND ".join(f"t.{k} = k.{k}" for k in self.lookup)
        with registered(con, "touched_keys", self._keys_arrow(keys, self.lookup)):
            result = con.execute(
                f"SELECT txid_current(), rowid, {', '.join(names)} FROM {self.table.name} "
                f"WHERE rowid IN (SELECT t.rowid FROM {self.table.name} t "
                f"JOIN touched_keys k ON {join})"
            ).fetchall()
        loaded = Loaded(transaction=result[0][0] if result else None)
        for _, rowid, *values in result:
            row = dict(zip(names, values, strict=True))
            key = self.table.key_of(row)
            loaded.rows[key], loaded.rowids[key] = row, rowid
        return loaded

    def _delete(self, con: duckdb.DuckDBPyConnection, loaded: "Loaded", keys: list[Key]) -> None:
        """Delete the rows of ``keys`` as loaded: by their rowids while the transaction that
        read them is still the one running, so no checkpoint can have moved them (a rebuild
        in parts, a replay, or anything else in autocommit deletes by key)."""
        if not keys:
            return
        if loaded.transaction == con.execute("SELECT txid_current()").fetchall()[0][0]:
            con.execute(
                f"DELETE FROM {self.table.name} WHERE rowid IN (SELECT unnest(?::BIGINT[]))",
                [[loaded.rowids[key] for key in keys]],
            )
            return
        join = " AND ".join(f"{self.table.name}.{k} = r.{k}" for k in self.table.key)
        with registered(con, "replaced_keys", self._keys_arrow(keys, self.table.key)):
            con.execute(f"DELETE FROM {self.table.name} USING replaced_keys r WHERE {join}")

    def _keys_arrow(self, keys: Iterable[Key], columns: tuple[str, ...]) -> pa.Table:
        schema = pa.schema([(k, ARROW_TYPES[self.table.columns[k]]) for k in columns])
        keys = list(keys)
        return pa.Table.from_arrays(
            [pa.array([key[i] for key in keys], type=f.type) for i, f in enumerate(schema)],
            schema=schema,
        )


@dataclass
class Loaded:
    """Rows read for a batch, with their rowids and the transaction that read them."""

    rows: Rows = field(default_factory=dict)
    rowids: dict[Key, int] = field(default_factory=dict)
    transaction: int | None = None


def columns(rows: Sequence[Row], schema: pa.Schema) -> pa.Table:
    """Rows (dicts) as an Arrow table, built column by column. (The names are read once:
    ``Field.name`` builds a new string each time, and read per row it cost a third.)"""
    return pa.Table.from_arrays(
        [
            pa.array([row[name] for row in rows], type=t)
            for name, t in zip(schema.names, schema.types, strict=True)
        ],
        schema=schema,
    )


def column_table(values: dict[str, list[Any]], table: Table) -> pa.Table:
    """Columns (name -> values) as an Arrow table of ``table``'s columns, in its order."""
    if values.keys() != table.columns.keys():
        raise ValueError(f"{table.name}: columns {sorted(values)} are not {sorted(table.columns)}")
    schema = table.arrow_schema()
    arrays = [pa.array(values[n], type=t) for n, t in zip(schema.names, schema.types, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def insert(con: duckdb.DuckDBPyConnection, table: Table, rows: pa.Table) -> None:
    with registered(con, "fresh_rows", rows):
        con.execute(f"INSERT INTO {table.name} SELECT * FROM fresh_rows")


def _snapshot(row: Row) -> Row:
    """A copy of a loaded row that an in-place change (``row["event_ids"].append``) misses."""
    return {name: list(value) if isinstance(value, list) else value for name, value in row.items()}


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
