"""Business days open: how many working days of a calendar a case has been open."""

import datetime as dt
import functools
from bisect import bisect_right

from careledger.ledger.deadlines._calendar import Calendar


def business_days_open(calendar: Calendar, received_at: dt.datetime, until: dt.datetime) -> int:
    """Working days after the local day of receipt up to and including the local day of
    ``until`` (the day of receipt is day 0, as in business-day deadlines); 0 if ``until``
    is not later. Raises OutOfCalendarRange for a day outside the calendar's years."""
    start = calendar.check(received_at.astimezone(calendar.zone).date())
    end = calendar.check(until.astimezone(calendar.zone).date())
    if end <= start:
        return 0
    non_working = _non_working_days(calendar)
    weekdays = _weekdays_between(start, end, calendar.weekend)
    return weekdays - (bisect_right(non_working, end) - bisect_right(non_working, start))


def _weekdays_between(start: dt.date, end: dt.date, weekend: frozenset[int]) -> int:
    """Days d with start < d <= end that are not weekend days."""
    days = (end - start).days
    full, rest = divmod(days, 7)
    count = full * (7 - len(weekend))
    count += sum((start.weekday() + i) % 7 not in weekend for i in range(1, rest + 1))
    return count


@functools.cache
def _non_working_days(calendar: Calendar) -> list[dt.date]:
    """The calendar's holidays that fall on a weekday, sorted (weekends are counted apart)."""
    return sorted(d for d in calendar.holidays if d.weekday() not in calendar.weekend)
