"""Tallies: counts and sums over a register's rows by a small key (a day, a channel), kept
as the register changes, so that a question over a period reads a few rows a day rather
than every row the register holds (the complaints return reads three).

A tally is a pure function ``count(row)``: what one row of its register adds to which
keys (key -> measures, each a count or a sum). The tally of a register is the sum over
its rows, so a batch changes it by what the rows it wrote count minus what the rows they
replaced counted: ``RowProjection`` calls ``add`` with both, which it holds already, and
nothing is read but the tally rows of the keys touched. The same function over every row
of the register (``recompute``) gives it from scratch, for a tally new to a file; the
parts of a rebuild in parts add up (``collapse``). Tests hold the kept tally equal to the
one counted from scratch, and ``verify`` compares it with a rebuild like any table.

(A first version defined tallies as SQL over the rows and ran it on each batch's Arrow
rows: DuckDB's fixed cost per statement made that 20% of the ledger's ingest.)
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import duckdb
import pyarrow as pa

from careledger.ledger.projections._rows import Key, Row, Table, columns, registered

Measures = Mapping[str, int | Decimal]  # measure -> what a row adds (absent: nothing)
Counts = dict[Key, list[Any]]
BATCH = 50_000


@dataclass(frozen=True)
class Tally:
    """``table``: the key columns, then the measures (BIGINT counts, DECIMAL sums).
    ``reads``: the register's columns ``count`` reads, and all it is given (a row changed
    elsewhere changes nothing). ``version`` changes with ``count``: a tally of another
    version is recomputed when the file is opened."""

    table: Table
    reads: tuple[str, ...]
    count: Callable[[Row], Iterable[tuple[Key, Measures]]]
    version: int = field(default=1, kw_only=True)

    def __post_init__(self) -> None:
        if tuple(self.table.columns)[: len(self.table.key)] != self.table.key:
            raise ValueError(f"{self.name}: the key columns come first")

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def measures(self) -> list[str]:
        return [c for c in self.table.columns if c not in self.table.key]

    def add(
        self, con: duckdb.DuckDBPyConnection, before: Mapping[Key, Row], after: Mapping[Key, Row]
    ) -> None:
        """Count the rows of the register a batch wrote (``after``) and uncount the rows
        they replaced (``before``, by key; a new row replaces none)."""
        delta: Counts = {}
        for key, new in after.items():
            old = before.get(key)
            if old is None or self._view(old) != self._view(new):
                self._counted(delta, new, 1)
                if old is not None:
                    self._counted(delta, old, -1)
        self._merge(con, {key: sums for key, sums in delta.items() if any(sums)})

    def recompute(self, con: duckdb.DuckDBPyConnection, source: Table) -> None:
        """The tally counted from every row its register (``source``) holds."""
        con.execute(f"DELETE FROM {self.name}")
        counts: Counts = {}
        con.execute(f"SELECT {', '.join(self.reads)} FROM {source.name}")
        while found := con.fetchmany(BATCH):  # in the caller's transaction
            for values in found:
                self._counted(counts, dict(zip(self.reads, values, strict=True)), 1)
        self._insert(con, counts)

    def collapse(self, con: duckdb.DuckDBPyConnection) -> None:
        """One row per key, summing rows that tallied parts of the register apart."""
        key = ", ".join(self.table.key)
        sums = ", ".join(f"CAST(sum({m}) AS {self.table.columns[m]}) AS {m}" for m in self.measures)
        summed = con.sql(f"SELECT {key}, {sums} FROM {self.name} GROUP BY {key}").to_arrow_table()
        con.execute(f"DELETE FROM {self.name}")
        with registered(con, "tally_rows", summed):
            con.execute(f"INSERT INTO {self.name} SELECT * FROM tally_rows")

    def _counted(self, counts: Counts, row: Row, sign: int) -> None:
        index = self._index
        for key, measures in self.count({c: row[c] for c in self.reads}):
            sums = counts.setdefault(key, [0] * len(index))
            for name, value in measures.items():
                sums[index[name]] += sign * value

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.measures)}

    def _merge(self, con: duckdb.DuckDBPyConnection, delta: Counts) -> None:
        """Add ``delta`` to the tally rows of its keys."""
        if not delta:
            return
        keys = self._rows(delta, self.table.key)
        same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM d.{k}" for k in self.table.key)
        width = len(self.table.key)
        with registered(con, "tally_keys", keys):
            held = con.execute(
                f"DELETE FROM {self.name} t USING tally_keys d WHERE {same} RETURNING t.*"
            ).fetchall()
        for row in held:
            sums = delta[row[:width]]
            for i, value in enumerate(row[width:]):
                sums[i] += value
        self._insert(con, {key: sums for key, sums in delta.items() if any(sums)})

    def _insert(self, con: duckdb.DuckDBPyConnection, counts: Counts) -> None:
        if counts:
            with registered(con, "tally_rows", self._rows(counts, tuple(self.table.columns))):
                con.execute(f"INSERT INTO {self.name} SELECT * FROM tally_rows")

    def _rows(self, counts: Counts, names: tuple[str, ...]) -> pa.Table:
        """``names`` of the table's columns, one row per key of ``counts``."""
        rows = [
            dict(zip(self.table.columns, (*key, *sums), strict=True))
            for key, sums in counts.items()
        ]
        full = self.table.arrow_schema()
        return columns(rows, pa.schema([full.field(name) for name in names]))

    def _view(self, row: Row) -> tuple[object, ...]:
        return tuple(row[c] for c in self.reads)


def utc_day(instant: dt.datetime) -> dt.date:
    """The UTC date of an instant, as the return's periods count days."""
    return instant.astimezone(dt.UTC).date()
