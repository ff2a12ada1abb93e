"""Business days open: worked out by hand, and equal to counting day by day."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.ledger.deadlines import OutOfCalendarRange, business_days_open
from tests.unit.deadlines.deadline_support import MADRID, local, shipped_calendars

CALENDARS = shipped_calendars()


@pytest.mark.parametrize(
    ("calendar_id", "received", "until", "expected"),
    [
        # The day of receipt is day 0, whatever the hour.
        ("ES-MD", local(MADRID, 2026, 3, 23, 9), local(MADRID, 2026, 3, 23, 23, 59), 0),
        # Fri 27 Mar -> Mon 30 Mar: Saturday and Sunday do not count.
        ("ES-MD", local(MADRID, 2026, 3, 27), local(MADRID, 2026, 3, 30), 1),
        # Mon 23 Mar -> Wed 15 Apr 2026 in Madrid: day 15 of the Ley 10/2025 count
        # (Jueves Santo 2 Apr is a Madrid holiday, Viernes Santo 3 Apr a national one).
        ("ES-MD", local(MADRID, 2026, 3, 23), local(MADRID, 2026, 4, 15), 15),
        # The national calendar works on Jueves Santo: one more day.
        ("ES", local(MADRID, 2026, 3, 23), local(MADRID, 2026, 4, 15), 16),
        # 23:30 UTC on 31 Mar is 1 Apr in Madrid (UTC+2): local days are counted.
        ("ES-MD", local(MADRID, 2026, 3, 23), dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), 7),
        # Resolved before it was received (a backdated event): not negative.
        ("ES-MD", local(MADRID, 2026, 3, 23), local(MADRID, 2026, 3, 20), 0),
    ],
)
def test_business_days_open_worked_out_by_hand(
    calendar_id: str, received: dt.datetime, until: dt.datetime, expected: int
) -> None:
    assert business_days_open(CALENDARS.get(calendar_id), received, until) == expected


def test_a_day_beyond_the_calendar_is_an_error_not_a_guess() -> None:
    with pytest.raises(OutOfCalendarRange):
        business_days_open(
            CALENDARS.get("ES-MD"), local(MADRID, 2028, 12, 1), local(MADRID, 2029, 1, 8)
        )


DAYS = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    calendar_id=st.sampled_from(["ES", "ES-MD", "ES-CT", "GB-ENG", "GB-SCT", "CO"]),
    start=DAYS,
    end=DAYS,
)
def test_business_days_open_equals_counting_day_by_day(
    calendar_id: str, start: dt.date, end: dt.date
) -> None:
    calendar = CALENDARS.get(calendar_id)
    counted = sum(
        calendar.is_working_day(start + dt.timedelta(days=n))
        for n in range(1, (end - start).days + 1)
    )
    noon = dt.time(12, tzinfo=calendar.zone)
    found = business_days_open(
        calendar, dt.datetime.combine(start, noon), dt.datetime.combine(end, noon)
    )
    assert found == counted
