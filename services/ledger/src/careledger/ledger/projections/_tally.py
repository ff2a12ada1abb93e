"""Tallies: counts and sums over a register's rows by a small key (a day, a channel), kept
as the register changes, so that a question over a period reads a few rows a day rather
than every row the register holds (the complaints return reads three).

A tally is one query over rows of its register. ``sql`` names them ``{rows}`` and returns
the tally's key columns, then its measures, grouped by the key; each measure is a sum of
what every row contributes (a count is a sum of ones). Sums are linear, so a batch changes
a tally by the query over the rows the batch wrote minus the query over the rows those
replaced: the live consumer and a rebuild keep it that way (``RowProjection`` calls
``add``). The same query over the whole register (``recompute``) gives it from scratch,
for a rebuild in parts or a tally new to a register already built; tests hold the two
equal, and ``verify`` compares a tally with a rebuild like any table.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from careledger.ledger.projections._rows import (
    ARROW_TYPES,
    Key,
    Row,
    Table,
    columns,
    registered,
)


@dataclass(frozen=True)
class Tally:
    """``table``: the key columns, then the measures (BIGINT counts, DECIMAL sums).
    ``reads``: the register's columns ``sql`` reads (a change elsewhere changes nothing).
    ``version`` changes with ``sql``: a tally of another version is recomputed on open."""

    table: Table
    reads: tuple[str, ...]
    sql: str
    version: int = field(default=1, kw_only=True)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def measures(self) -> list[str]:
        return [c for c in self.table.columns if c not in self.table.key]

    def create(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(self.table.ddl())

    def recompute(self, con: duckdb.DuckDBPyConnection, source: Table) -> None:
        """The tally from every row its register (``source``) holds."""
        con.execute(f"DELETE FROM {self.name}")
        con.execute(f"INSERT INTO {self.name} {self._summed(self._of(source.name))}")

    def add(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Table,
        before: Mapping[Key, Row],
        after: Mapping[Key, Row],
    ) -> None:
        """Count rows of the register (``source``) a batch wrote (``after``), uncounting
        the rows they replaced (``before``, by key; a new row replaces none)."""
        moved = [(before.get(key), row) for key, row in after.items()]
        moved = [
            (old, new) for old, new in moved if old is None or self._view(old) != self._view(new)
        ]
        if not moved:
            return
        schema = pa.schema([(c, ARROW_TYPES[source.columns[c]]) for c in self.reads])
        plus = columns([new for _, new in moved], schema)
        minus = columns([old for old, _ in moved if old is not None], schema)
        with registered(con, "tally_plus", plus), registered(con, "tally_minus", minus):
            delta = con.sql(
                self._summed(f"{self._of('tally_plus')} UNION ALL {self._of('tally_minus', -1)}")
            )
            delta = delta.to_arrow_table()
        same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM d.{k}" for k in self.table.key)
        nonzero = " OR ".join(f"{m} <> 0" for m in self.measures)
        held = f"SELECT t.* FROM {self.name} t SEMI JOIN tally_delta d ON {same}"
        with registered(con, "tally_delta", delta):
            summed = self._summed(f"{held} UNION ALL FROM tally_delta")
            merged = con.sql(f"SELECT * FROM ({summed}) WHERE {nonzero}").to_arrow_table()
            con.execute(f"DELETE FROM {self.name} t USING tally_delta d WHERE {same}")
        with registered(con, "tally_rows", merged):
            con.execute(f"INSERT INTO {self.name} SELECT * FROM tally_rows")

    def _of(self, rows: str, sign: int = 1) -> str:
        """The tally of the rows named ``rows``, its measures negated with ``sign`` -1."""
        if sign == 1:
            return self.sql.format(rows=rows)
        negated = ", ".join(f"-{m} AS {m}" for m in self.measures)
        return f"SELECT {', '.join(self.table.key)}, {negated} FROM ({self.sql.format(rows=rows)})"

    def _summed(self, rows: str) -> str:
        """``rows`` (key, measures) summed by key, in the table's types."""
        key = ", ".join(self.table.key)
        sums = ", ".join(f"CAST(sum({m}) AS {self.table.columns[m]}) AS {m}" for m in self.measures)
        return f"SELECT {key}, {sums} FROM ({rows}) GROUP BY {key}"

    def _view(self, row: Row) -> tuple[object, ...]:
        return tuple(row[c] for c in self.reads)


def utc_day(instant: str) -> str:
    """SQL: the UTC date of a TIMESTAMPTZ, whatever the session's time zone."""
    return f"CAST(timezone('UTC', {instant}) AS DATE)"
