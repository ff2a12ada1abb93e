"""Tallies: counts and sums over a register's rows by a small key (a day, a channel), kept
as the register changes, so that a question over a period reads a few rows a day rather
than every row the register holds (the complaints return reads three).

A tally is a pure function ``count(row)``: what one row of its register adds to which
keys (key -> measures, each a count or a sum). The tally of a register is the sum over
its rows, so a batch changes it by what the rows it wrote count minus what the rows they
replaced counted (``delta``). The same function over every row of the register gives it
from scratch. Keeping the tally tables is the store's (``careledger.ledger.ingest.tallies``).
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from careledger.ledger.domain.rows import Key, Row, Table

Measures = Mapping[str, int | Decimal]  # measure -> what a row adds (absent: nothing)
Counts = dict[Key, list[Any]]  # key -> one sum per measure, in the table's order


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

    def delta(self, before: Mapping[Key, Row], after: Mapping[Key, Row]) -> Counts:
        """What the rows a batch wrote (``after``) count, less what the rows they replaced
        (``before``, by key; a new row replaces none) counted; keys that net to nothing
        are left out."""
        delta: Counts = {}
        for key, new in after.items():
            old = before.get(key)
            if old is None or self._view(old) != self._view(new):
                self.counted(delta, new, 1)
                if old is not None:
                    self.counted(delta, old, -1)
        return {key: sums for key, sums in delta.items() if any(sums)}

    def counted(self, counts: Counts, row: Row, sign: int) -> None:
        """Add what ``row`` counts, times ``sign``, to ``counts``."""
        index = self._index
        for key, measures in self.count({c: row[c] for c in self.reads}):
            sums = counts.setdefault(key, [0] * len(index))
            for name, value in measures.items():
                sums[index[name]] += sign * value

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.measures)}

    def _view(self, row: Row) -> tuple[object, ...]:
        return tuple(row[c] for c in self.reads)


def utc_day(instant: dt.datetime) -> dt.date:
    """The UTC date of an instant, as the return's periods count days."""
    return instant.astimezone(dt.UTC).date()
