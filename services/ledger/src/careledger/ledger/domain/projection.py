"""What a projection is: a register kept as a table, maintained from the events it handles.

A projection is declared here and folded here, purely: ``RowProjection.fold`` updates a
dict of rows (key -> row) from a batch of events, and ``EventProjection.columns_of`` gives
one row per event. Loading the touched rows and writing them back is the store's
(``careledger.ledger.ingest.tables``), the same code for the live consumer, a rebuild and
an as-of replay, so all three give the same rows.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from careledger.contracts.events import EVENT_TYPES
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.rows import Key, Row, Rows, Table
from careledger.ledger.domain.tally import Tally


@dataclass(frozen=True)
class Projection:
    """A register kept as one table, maintained from the events it ``handles``.

    ``version`` changes whenever the rows the same events give change (a new rule, a fixed
    one), so that a ledger file written before is rebuilt on open. ``tallies`` are kept
    from its rows as they change (a ``RowProjection``'s; ``careledger.ledger.domain.tally``).
    """

    table: Table
    handles: tuple[type, ...]
    version: int = field(default=1, kw_only=True)
    tallies: tuple[Tally, ...] = field(default=(), kw_only=True)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def tables(self) -> tuple[Table, ...]:
        """Its table, then its tallies' tables."""
        return (self.table, *(tally.table for tally in self.tallies))

    @cached_property
    def _types(self) -> frozenset[type]:
        """The event types it handles, by exact type: a set lookup per event of a batch,
        where ``isinstance`` walked each event's classes."""
        return frozenset(t for t in EVENT_TYPES if issubclass(t, self.handles))

    def relevant(self, batch: Sequence[Applied]) -> list[Applied]:
        """The events of ``batch`` it handles, in log order."""
        types = self._types
        return [a for a in batch if type(a.event) in types]


@dataclass(frozen=True)
class EventProjection(Projection):
    """One row per event it handles, never changed afterwards (the timeline).

    ``columns_of`` gives the batch's rows column by column (name -> one value per event):
    nothing is loaded, and no row is built as a dict. The key is the event's own (its
    stream sequence), which the ledger applies once, so the rows are only inserted.
    """

    columns_of: Callable[[Sequence[Applied]], dict[str, list[Any]]]

    def __post_init__(self) -> None:
        if self.tallies:
            raise ValueError(f"{self.name}: only a RowProjection keeps tallies")


@dataclass(frozen=True)
class RowProjection(Projection):
    """A register whose rows events change: the touched rows are loaded, folded, written back.

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

    def fold(self, rows: Rows, relevant: Sequence[Applied]) -> Rows:
        """``rows`` (the loaded rows of every key ``keys_of`` names) after ``relevant``."""
        if not self.scope:
            for applied in relevant:
                self.evolve(rows, applied)
            return rows
        groups: dict[Key, Rows] = {}
        for key, row in rows.items():
            groups.setdefault(key[: len(self.scope)], {})[key] = row
        for applied in relevant:
            for scope in self.keys_of(applied):
                self.evolve(groups.setdefault(scope, {}), applied)
        return {key: row for group in groups.values() for key, row in group.items()}


T = TypeVar("T")


@dataclass(frozen=True)
class Bound(Generic[T]):
    """``evolve(rows, applied, data)`` bound to the data it folds by (the deadline policy):
    a value, so that two projections built from equal data are equal, which a closure or a
    ``functools.partial`` would not be (a rebuild in parts compares them)."""

    evolve: Callable[[Rows, Applied, T], None]
    data: T

    def __call__(self, rows: Rows, applied: Applied) -> None:
        self.evolve(rows, applied, self.data)


def snapshot(row: Row) -> Row:
    """A copy of a row that an in-place change (``row["event_ids"].append``) misses."""
    return {name: list(value) if isinstance(value, list) else value for name, value in row.items()}
