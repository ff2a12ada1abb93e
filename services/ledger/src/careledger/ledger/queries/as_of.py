"""Registers as they stood at an instant T: the same projections, replayed into a throwaway
in-memory database from only the events up to T, then the usual register query.

Two axes: ``occurred`` (events whose ``occurred_at`` <= T: the world as we now know it was
at T) and ``recorded`` (``recorded_at`` <= T: what the ledger could have answered at T).
``recorded_at`` is the ledger's column, when the stream stored the event by the server's
clock; the ``recorded_at`` a publisher wrote in the event is a claim no axis reads
(``log_tables``), so a backdated claim cannot make an answer hold before the event existed.
Either way the events are applied in log order, by the same ``tables.apply`` as the
live consumer, so an as-of answer equals the register of a ledger fed only those events.
Registers that move with the clock (deadline status, days open) are read with now = T.

Cost: O(events up to T) per question (about the speed of ``careledger ledger rebuild``),
streamed in chunks, refused above ``MAX_REPLAY`` events, one replay at a time per process
in at most ``REPLAY_MEMORY``. Only the projections a register
reads are replayed, from only the event types they handle (``replayed_events`` counts
those); a ``subject_id`` filter replays only that subject's events plus any other event
naming the same contact, consent or complaint ids (rows are keyed by those ids, so this
closure gives exactly the rows the full replay would).
"""

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

from careledger.contracts.events import EVENT_TYPES
from careledger.ledger import duck
from careledger.ledger.deadlines import Policy
from careledger.ledger.domain.projection import Projection
from careledger.ledger.ingest import tables
from careledger.ledger.ingest.folding import COLUMNS, decoded
from careledger.ledger.ingest.ingest import CONSENT_ID, CONSENT_TYPES
from careledger.ledger.queries.registers import REGISTERS, query

Axis = Literal["occurred", "recorded"]
AXES: dict[str, str] = {"occurred": "occurred_at", "recorded": "recorded_at"}
CHUNK = 20_000
MAX_REPLAY = 2_000_000
REPLAY_MEMORY = "256MB"  # DuckDB spills beyond it; its default would be 80% of RAM
_ONE_AT_A_TIME = threading.Lock()  # replays are CPU- and memory-heavy: never several at once
# The id a projection keys its rows by: the consent id of consent events (ingest holds it
# the one the event decodes to), else the aggregate id.
ROW_KEY = f"CASE WHEN type IN {CONSENT_TYPES} THEN {CONSENT_ID} ELSE aggregate_id END"


class BadInstant(ValueError):
    """An instant that is not ISO 8601 with a zone (or ``now``)."""


class TooLarge(ValueError):
    """More events up to T than one as-of question may replay."""


def parse_instant(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """ISO 8601 with a zone (``Z`` or ``+01:00``), or ``now``; returned in UTC."""
    if text.strip().lower() == "now":
        return now or dt.datetime.now(dt.UTC)
    try:
        instant = dt.datetime.fromisoformat(text.strip())
        instant.astimezone(dt.UTC)  # OverflowError: a zone pushing it past year 1 or 9999
    except (ValueError, OverflowError):
        raise BadInstant(
            f"{text!r} is not an ISO 8601 instant (e.g. 2026-11-01T00:00:00Z)"
        ) from None
    if instant.utcoffset() is None:
        raise BadInstant(f"{text!r} has no zone; add Z or an offset such as +01:00")
    return instant.astimezone(dt.UTC)


def parse_axis(text: str) -> Axis:
    if text == "occurred":
        return "occurred"
    if text == "recorded":
        return "recorded"
    raise ValueError(f"axis is occurred or recorded, not {text!r}")


@dataclass(frozen=True)
class Replay:
    """An in-memory ledger holding the registers as they stood at ``at`` on ``axis``."""

    con: duckdb.DuckDBPyConnection
    at: dt.datetime
    axis: Axis
    events: int
    through_sequence: int
    ledger_sequence: int

    def about(self) -> dict[str, Any]:
        return {
            "as_of": self.at.isoformat(),
            "axis": self.axis,
            "replayed_events": self.events,
            "through_sequence": self.through_sequence,
            "ledger_sequence": self.ledger_sequence,
        }


@contextmanager
def replay(
    ledger: duckdb.DuckDBPyConnection,
    at: dt.datetime,
    axis: Axis,
    *,
    subject_id: str | None = None,
    projections: Sequence[Projection],
    limit: int = MAX_REPLAY,
) -> Iterator[Replay]:
    """Replay the events up to ``at`` (one consistent snapshot of ``ledger``) into memory."""
    column = AXES[axis]
    types = sorted(
        {t.__name__ for p in projections for t in EVENT_TYPES if issubclass(t, p.handles)}
    )
    where, params = f"{column} <= ? AND type IN (SELECT unnest(?))", list[Any]([at, types])
    if subject_id is not None:
        where += (
            f" AND (subject_id = ? OR ({ROW_KEY}) IN "
            f"(SELECT {ROW_KEY} FROM events WHERE subject_id = ?))"
        )
        params += [subject_id, subject_id]
    with _ONE_AT_A_TIME:
        yield from _replayed(ledger, at, axis, where, params, projections, limit)


def _replayed(
    ledger: duckdb.DuckDBPyConnection,
    at: dt.datetime,
    axis: Axis,
    where: str,
    params: list[Any],
    projections: Sequence[Projection],
    limit: int,
) -> Iterator[Replay]:
    memory = duck.scratch(REPLAY_MEMORY)
    try:
        for projection in projections:
            tables.create(memory, projection)
        ledger.execute("BEGIN TRANSACTION")
        try:
            head = ledger.execute("SELECT max(sequence) FROM ledger_position").fetchall()
            count = ledger.execute(f"SELECT count(*) FROM events WHERE {where}", params)
            total = count.fetchall()[0][0]
            if total > limit:
                raise TooLarge(
                    f"{total} events up to {at.isoformat()}; an as-of question replays at most "
                    f"{limit} (narrow it with subject_id, or export the log and replay offline)"
                )
            last = _apply(ledger, memory, where, params, projections)
        finally:
            ledger.execute("ROLLBACK")
        yield Replay(memory, at, axis, total, last, head[0][0] or 0)
    finally:
        memory.close()


def _apply(
    ledger: duckdb.DuckDBPyConnection,
    memory: duckdb.DuckDBPyConnection,
    where: str,
    params: list[Any],
    projections: Sequence[Projection],
) -> int:
    ledger.execute(
        f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY sequence",
        params,
    )
    last = 0
    while rows := ledger.fetchmany(CHUNK):
        batch = decoded(rows)
        for projection in projections:
            tables.apply(memory, projection, batch)
        last = batch[-1].sequence
    return last


def register_as_of(
    ledger: duckdb.DuckDBPyConnection,
    name: str,
    filters: dict[str, str],
    at: dt.datetime,
    axis: Axis = "occurred",
    *,
    projections: Sequence[Projection],
    policy: Policy,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of register ``name`` as it stood at ``at`` on ``axis``, with what was replayed:
    only the ``projections`` the register reads."""
    register = REGISTERS[name]
    register.check(filters)
    needed = [p for p in projections if p.name in register.reads]
    subject = filters.get("subject_id")
    with replay(ledger, at, axis, subject_id=subject, projections=needed) as state:
        page = query(state.con, register, filters, policy, limit=limit, offset=offset, now=at)
        return page | state.about()
