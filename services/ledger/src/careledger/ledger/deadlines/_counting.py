"""Counting one milestone from a receipt: business days, calendar units, hours.

Each function returns the due date (or datetime) and a short explanation of the steps.
"""

import datetime as dt
from calendar import monthrange

from careledger.ledger.deadlines._calendar import Calendar
from careledger.ledger.deadlines._policy import ClockStart, Unit

_UTC = dt.UTC


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the last day of that month if it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


def count(
    calendar: Calendar,
    received_at: dt.datetime,
    offset: int,
    unit: Unit,
    *,
    clock_start: ClockStart,
    roll_forward: bool,
    business_hours_end: dt.time,
) -> tuple[dt.date | dt.datetime, str]:
    received = received_at.astimezone(calendar.zone)
    day = calendar.check(received.date())
    what = f"{offset} {unit.replace('_', ' ')[: -1 if offset == 1 else None]}"
    if unit == "hours":
        due = (received_at.astimezone(_UTC) + dt.timedelta(hours=offset)).astimezone(calendar.zone)
        calendar.check(due.date())
        return due, f"{what} after receipt at {received:%Y-%m-%d %H:%M} {calendar.timezone}"
    if unit == "business_days":
        start, why = _business_start(calendar, received, business_hours_end)
        return calendar.add_business_days(start, offset), (
            f"{what} after {start}{why}, skipping weekends and {calendar.calendar_id} holidays"
        )
    base, why = day, f"receipt on {day}"
    if clock_start == "next_business_day":
        base = calendar.next_working_day(day)
        why = f"{base}, the business day after receipt on {day}"
    return _calendar_units(calendar, base, offset, unit, roll_forward, f"{what} from {why}")


def _business_start(
    calendar: Calendar, received: dt.datetime, hours_end: dt.time
) -> tuple[dt.date, str]:
    """The day counted as the day of receipt: the next business day if out of hours."""
    day = received.date()
    if not calendar.is_working_day(day):
        start = calendar.next_working_day(day)
        return start, f" (received {day}, a non-working day, so counted as received {start})"
    if received.time() > hours_end:
        start = calendar.next_working_day(day)
        return start, (
            f" (received {received:%H:%M}, after {hours_end:%H:%M} {calendar.timezone}, "
            f"so counted as received {start})"
        )
    return day, ""


def _calendar_units(
    calendar: Calendar, base: dt.date, offset: int, unit: Unit, roll: bool, basis: str
) -> tuple[dt.date, str]:
    if unit == "calendar_months":
        raw = add_months(base, offset)
        if raw.day != base.day:
            basis += f"; {raw:%B} has no day {base.day}, so its last day"
    else:
        raw = base + dt.timedelta(days=offset * (7 if unit == "calendar_weeks" else 1))
    basis += f" -> {raw}"
    if not roll:
        return calendar.check(raw), basis + " (no roll-forward)"
    due = calendar.on_or_after(raw)
    if due != raw:
        reason = calendar.holidays.get(raw, "weekend")
        basis += f", not a working day ({reason}), rolled forward to {due}"
    return due, basis
