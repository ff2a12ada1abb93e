"""Shared helpers for the deadline engine tests: shipped regimes, calendars, one due date."""

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from careledger.ledger.deadlines import (
    DEFAULT_BUSINESS_HOURS_END,
    Calendars,
    Case,
    Deadline,
    Regime,
    deadlines_for,
    load_calendars,
    load_regimes,
)

MADRID = ZoneInfo("Europe/Madrid")
LONDON = ZoneInfo("Europe/London")
BOGOTA = ZoneInfo("America/Bogota")
NO_ENV: dict[str, str] = {}


@cache
def shipped_regimes() -> tuple[Regime, ...]:
    return load_regimes(environ=NO_ENV)


@cache
def shipped_calendars() -> Calendars:
    return load_calendars(environ=NO_ENV)


def local(zone: ZoneInfo, y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=zone)


def deadline(
    regime_id: str,
    milestone: str,
    *,
    received: dt.datetime,
    jurisdiction: str,
    calendars: Calendars | None = None,
    business_hours_end: dt.time = DEFAULT_BUSINESS_HOURS_END,
) -> Deadline:
    """The one deadline ``milestone`` of ``regime_id`` for a case that names the regime."""
    case = Case(
        received_at=received,
        jurisdiction=jurisdiction,
        sector="any",
        kind="complaint",
        regimes=frozenset({regime_id}),
    )
    found = deadlines_for(
        case,
        [r for r in shipped_regimes() if r.regime_id == regime_id],
        calendars or shipped_calendars(),
        business_hours_end=business_hours_end,
    )
    (only,) = [d for d in found if d.regime_id == regime_id and d.milestone == milestone]
    return only


def due(
    regime_id: str,
    milestone: str,
    *,
    received: dt.datetime,
    jurisdiction: str,
    calendars: Calendars | None = None,
    business_hours_end: dt.time = DEFAULT_BUSINESS_HOURS_END,
) -> dt.date | dt.datetime:
    return deadline(
        regime_id,
        milestone,
        received=received,
        jurisdiction=jurisdiction,
        calendars=calendars,
        business_hours_end=business_hours_end,
    ).due
