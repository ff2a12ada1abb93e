"""Deadlines for a case: every regime that applies, each milestone reported separately."""

import datetime as dt
from collections.abc import Sequence

from careledger.ledger.deadlines._calendar import Calendar
from careledger.ledger.deadlines._calendars import Calendars
from careledger.ledger.deadlines._counting import count
from careledger.ledger.deadlines._errors import UnknownRegime
from careledger.ledger.deadlines._model import Case, Deadline
from careledger.ledger.deadlines._policy import CASE_JURISDICTION, Milestone, Regime

DEFAULT_BUSINESS_HOURS_END = dt.time(17, 0)


def deadlines_for(
    case: Case,
    regimes: Sequence[Regime],
    calendars: Calendars,
    *,
    business_hours_end: dt.time = DEFAULT_BUSINESS_HOURS_END,
) -> list[Deadline]:
    """Deadlines of every regime in force that applies to ``case`` (or that it names).

    A business-day milestone for a case received after ``business_hours_end`` (local time
    of the calendar) or on a non-working day counts from the next business day.
    """
    unknown = sorted(case.regimes - {r.regime_id for r in regimes})
    if unknown:
        known = ", ".join(r.regime_id for r in regimes)
        raise UnknownRegime(f"case names unknown regime(s) {', '.join(unknown)}; known: {known}")
    found: list[Deadline] = []
    for regime in regimes:
        if regime.regime_id not in case.regimes and not regime.applies_if.matches(case):
            continue
        calendar = (
            calendars.for_jurisdiction(case.jurisdiction)
            if regime.calendar == CASE_JURISDICTION
            else calendars.get(regime.calendar)
        )
        if regime.in_force_on(case.received_at.astimezone(calendar.zone).date()):
            found += _regime_deadlines(regime, calendar, case.received_at, business_hours_end)
    return found


def _regime_deadlines(
    regime: Regime, calendar: Calendar, received_at: dt.datetime, hours_end: dt.time
) -> list[Deadline]:
    def one(
        m: Milestone, offset: int, name: str, condition: str | None = None, extended: bool = False
    ) -> Deadline:
        ext_check, ext_note = (ext.check, ext.note) if ext and extended else (False, "")
        due, basis = count(
            calendar,
            received_at,
            offset,
            m.unit,
            clock_start=regime.clock_start,
            roll_forward=m.roll_forward,
            business_hours_end=hours_end,
        )
        return Deadline(
            regime_id=regime.regime_id,
            regime_version=regime.version,
            milestone=name,
            due=due,
            ends_at=_ends_at(due, calendar),
            calendar_id=calendar.calendar_id,
            timezone=calendar.timezone,
            holidays_version=calendar.holidays_version,
            calendar_overrides=calendar.overrides,
            basis=basis,
            condition=condition,
            check=regime.check or m.check or ext_check,
            notes=tuple(n for n in (regime.note, m.note, ext_note) if n),
        )

    ext = regime.extension
    deadlines = [one(m, m.offset, m.name) for m in regime.milestones]
    if ext is None:
        return deadlines
    milestone = next(m for m in regime.milestones if m.name == ext.milestone)
    original = next(d for d in deadlines if d.milestone == milestone.name)
    condition = "only if the extension applies"
    if ext.must_notify_before_due:
        condition = f"only if the extension was notified by {original.due}"
        notice = f"only if {milestone.name} is to be extended: notify reasons by its due date"
        deadlines.append(
            one(milestone, milestone.offset, f"{milestone.name}_extension_notice", notice)
        )
    total = milestone.offset + ext.max_offset
    deadlines.append(one(milestone, total, f"{milestone.name}_extended", condition, True))
    return deadlines


def _ends_at(due: dt.date, calendar: Calendar) -> dt.datetime:
    """The instant a deadline lapses: a due datetime itself, else the local midnight after."""
    if isinstance(due, dt.datetime):
        return due
    return dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.zone)
