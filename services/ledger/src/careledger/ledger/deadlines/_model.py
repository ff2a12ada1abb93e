"""The case a deadline is computed for, and the deadline the engine reports."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["met", "breached", "at_risk", "open"]


@dataclass(frozen=True, kw_only=True)
class Case:
    """What the engine needs to know about a case.

    ``regimes`` are regime ids the case names explicitly (``ComplaintFiled.regimes``):
    they apply even where their ``applies_if`` would not match (still only while in force).
    """

    received_at: dt.datetime
    jurisdiction: str
    sector: str
    kind: str
    regimes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError("Case.received_at must be timezone-aware (e.g. UTC)")


@dataclass(frozen=True, kw_only=True)
class SourceFile:
    """A data file a result depends on, by name and SHA-256 of its bytes."""

    name: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """One milestone of one regime for one case.

    ``due`` is a date (the whole day counts, local to the calendar) or, for milestones in
    hours, an aware datetime. ``ends_at`` is the instant the deadline lapses: the local
    midnight after a due date, or the due datetime itself. ``condition`` is set on the
    extended deadline, which applies only if the extension was notified in time.
    """

    regime_id: str
    regime_version: int
    milestone: str
    due: dt.date | dt.datetime
    ends_at: dt.datetime
    calendar_id: str
    timezone: str
    holidays_version: str
    calendar_overrides: tuple[SourceFile, ...]
    basis: str
    condition: str | None = None
    check: bool = False
    notes: tuple[str, ...] = field(default=())
