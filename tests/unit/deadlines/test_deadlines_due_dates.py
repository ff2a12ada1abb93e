"""Due dates worked out by hand: each row says which rule gives the expected date.

Weekdays used below: 2025-02-28 Fri, 2026-02-28 Sat, 2027-02-28 Sun, 2028-02-29 Tue,
2027-12-06 Mon, 2025-12-25 Thu, 2028-05-02 Tue, 2026-09-11 Fri, 2025-12-31 Wed,
2026-11-30 Mon, 2026-03-03 Tue, 2026-03-07 Sat, 2026-03-20 Fri, 2026-06-01 Mon.
"""

import datetime as dt

import pytest

from tests.unit.deadlines.deadline_support import BOGOTA, LONDON, MADRID, due, local

D = dt.date
GDPR, LEY_7, LEY_10 = "eu.gdpr.art12", "es.ley_7_2017", "es.ley_10_2025"
DISP, DISP_PAY, COLOMBIA = "uk.fca.disp", "uk.fca.disp.payments", "co.ley_1755_2015.art14"

CALENDAR_MONTHS = [
    # Same day next month does not exist -> last day of February; 2028-02-29 (leap) is a Tue.
    pytest.param(local(MADRID, 2028, 1, 31), "ES-MD", D(2028, 2, 29), id="leap-year-29-feb"),
    # 2025-02-28 exists as the last day (Fri) and is a working day in Madrid.
    pytest.param(local(MADRID, 2025, 1, 31), "ES-MD", D(2025, 2, 28), id="28-feb-working"),
    # Same 28 Feb 2025 is Día de Andalucía (ES-AN only): roll forward to Mon 3 March.
    pytest.param(local(MADRID, 2025, 1, 31), "ES-AN", D(2025, 3, 3), id="28-feb-andalucia"),
    # 2026-02-28 is a Saturday: roll forward over the weekend to Mon 2 March (ICO method).
    pytest.param(local(MADRID, 2026, 1, 31), "ES-MD", D(2026, 3, 2), id="weekend-roll-sat"),
    # 2027-02-28 is a Sunday: roll forward to Mon 1 March.
    pytest.param(local(MADRID, 2027, 1, 31), "ES-MD", D(2027, 3, 1), id="weekend-roll-sun"),
    # 6 Nov 2027 (a Saturday: the clock runs from receipt whatever the day) -> Mon 6 Dec,
    # Constitution Day (national) -> Tue 7 Dec.
    pytest.param(local(MADRID, 2027, 11, 6), "ES", D(2027, 12, 7), id="6-dec-national"),
    # 2 May 2028 is Madrid Day (ES-MD only): Madrid rolls to Wed 3 May ...
    pytest.param(local(MADRID, 2028, 4, 2), "ES-MD", D(2028, 5, 3), id="2-may-madrid"),
    # ... while the national calendar keeps Tue 2 May.
    pytest.param(local(MADRID, 2028, 4, 2), "ES", D(2028, 5, 2), id="2-may-national"),
    # 11 Sep 2026 (Fri) is the Diada, Catalonia only: Catalonia rolls to Mon 14 Sep ...
    pytest.param(local(MADRID, 2026, 8, 11), "ES-CT", D(2026, 9, 14), id="11-sep-catalonia"),
    # ... Madrid keeps Fri 11 Sep.
    pytest.param(local(MADRID, 2026, 8, 11), "ES-MD", D(2026, 9, 11), id="11-sep-madrid"),
]


@pytest.mark.parametrize(("received", "jurisdiction", "expected"), CALENDAR_MONTHS)
def test_a_gdpr_month_is_the_same_day_next_month_clamped_then_rolled_to_a_working_day(
    received: dt.datetime, jurisdiction: str, expected: dt.date
) -> None:
    assert due(GDPR, "final_response", received=received, jurisdiction=jurisdiction) == expected


CHRISTMAS = [
    # 25 Nov 2025 + 1 month = Thu 25 Dec (Christmas, national) -> Fri 26 Dec in Madrid.
    pytest.param("ES-MD", D(2025, 12, 26), id="madrid"),
    # In Catalonia 26 Dec is Sant Esteve too, then the weekend: Mon 29 Dec.
    pytest.param("ES-CT", D(2025, 12, 29), id="catalonia"),
]


@pytest.mark.parametrize(("jurisdiction", "expected"), CHRISTMAS)
def test_a_spanish_month_ending_on_christmas_rolls_past_the_regions_holidays(
    jurisdiction: str, expected: dt.date
) -> None:
    received = local(MADRID, 2025, 11, 25)
    assert due(LEY_7, "final_response", received=received, jurisdiction=jurisdiction) == expected


BUSINESS_DAYS = [
    # DISP 1.5.1R: close of the 3rd business day after receipt (Wed 31 Dec 2025).
    # England: 1 Jan holiday; Fri 2 Jan (1), Mon 5 (2), Tue 6 (3).
    pytest.param(DISP, local(LONDON, 2025, 12, 31), "GB-ENG", D(2026, 1, 6), id="eng-2-jan"),
    # Scotland: 1 and 2 Jan are holidays; Mon 5 (1), Tue 6 (2), Wed 7 (3).
    pytest.param(DISP, local(LONDON, 2025, 12, 31), "GB-SCT", D(2026, 1, 7), id="sct-2-jan"),
    # Received Thu 26 Nov 2026. England: Fri 27 (1), Mon 30 (2), Tue 1 Dec (3).
    pytest.param(DISP, local(LONDON, 2026, 11, 26), "GB-ENG", D(2026, 12, 1), id="eng-30-nov"),
    # Scotland: Mon 30 Nov is St Andrew's Day: Fri 27 (1), Tue 1 (2), Wed 2 Dec (3).
    pytest.param(DISP, local(LONDON, 2026, 11, 26), "GB-SCT", D(2026, 12, 2), id="sct-30-nov"),
    # DISP 1.6.2AR: 15 business days from Mon 1 Jun 2026 (no English holidays in June):
    # 2-5 Jun (4), 8-12 (9), 15-19 (14), Mon 22 (15).
    pytest.param(DISP_PAY, local(LONDON, 2026, 6, 1), "GB-ENG", D(2026, 6, 22), id="payments-15"),
    # Ley 1755 art. 14: 15 business days from the day after receipt (Fri 20 Mar 2026):
    # Mon 23 Mar is San José (observed); 24-27 (4), 30, 31, 1 Apr (7); 2-3 Apr Holy
    # Thursday/Good Friday; 6-10 Apr (12), 13, 14, Wed 15 (15).
    pytest.param(
        COLOMBIA, local(BOGOTA, 2026, 3, 20), "CO", D(2026, 4, 15), id="colombia-day-after"
    ),
    # Ley 10/2025: 15 business days; received Tue 3 Mar 2026 16:59, within hours:
    # 4-6 Mar (3), 9-13 (8), 16-20 (13), 23 (14), Tue 24 (15).
    pytest.param(LEY_10, local(MADRID, 2026, 3, 3, 16, 59), "ES-MD", D(2026, 3, 24), id="in-hours"),
    # Same day at 17:30, after the 17:00 close: counted as received Wed 4 Mar, so Wed 25.
    pytest.param(
        LEY_10, local(MADRID, 2026, 3, 3, 17, 30), "ES-MD", D(2026, 3, 25), id="after-hours"
    ),
    # Received on Saturday 7 Mar: counted as received Mon 9, so 10-13 (4), 16-20 (9),
    # 23-27 (14), Mon 30 (15).
    pytest.param(
        LEY_10, local(MADRID, 2026, 3, 7, 11), "ES-MD", D(2026, 3, 30), id="on-a-saturday"
    ),
]


@pytest.mark.parametrize(("regime", "received", "jurisdiction", "expected"), BUSINESS_DAYS)
def test_business_days_skip_weekends_and_the_calendars_own_holidays(
    regime: str, received: dt.datetime, jurisdiction: str, expected: dt.date
) -> None:
    milestone = "summary_resolution" if regime == DISP else "final_response"
    assert due(regime, milestone, received=received, jurisdiction=jurisdiction) == expected


def test_out_of_hours_is_judged_in_the_calendars_local_time() -> None:
    # 16:30 UTC on 3 Mar 2026 is 17:30 in Madrid (CET, UTC+1): after hours -> Wed 25 Mar.
    received = dt.datetime(2026, 3, 3, 16, 30, tzinfo=dt.UTC)
    assert due(LEY_10, "final_response", received=received, jurisdiction="ES-MD") == D(2026, 3, 25)


def test_the_end_of_business_hours_is_configurable() -> None:
    # With an 18:00 close, 17:30 is within hours: counted from Tue 3 Mar -> Tue 24 Mar.
    received = local(MADRID, 2026, 3, 3, 17, 30)
    found = due(
        LEY_10,
        "final_response",
        received=received,
        jurisdiction="ES-MD",
        business_hours_end=dt.time(18, 0),
    )
    assert found == D(2026, 3, 24)


def test_colombian_counting_starts_the_day_after_receipt_so_day_one_is_the_next_day() -> None:
    # Received Tue 24 Mar 2026 at 09:00: the receipt day does not count, day 1 is Wed 25:
    # 25-27 (3), 30, 31, 1 Apr (6), 2-3 Apr holidays, 6-10 (11), 13-16 (15) -> Thu 16 Apr.
    received = local(BOGOTA, 2026, 3, 24, 9)
    assert due(COLOMBIA, "final_response", received=received, jurisdiction="CO") == D(2026, 4, 16)


def test_eight_weeks_under_disp_is_not_rolled_forward_even_onto_good_friday() -> None:
    # Fri 6 Feb 2026 + 56 days = Fri 3 Apr 2026, Good Friday; DISP states no roll-forward.
    received = local(LONDON, 2026, 2, 6)
    assert due(DISP, "final_response", received=received, jurisdiction="GB-ENG") == D(2026, 4, 3)


def test_hours_are_counted_in_real_time_across_a_daylight_saving_change() -> None:
    # Spain moves to CEST at 01:00 UTC on Sun 29 Mar 2026: 00:30 UTC (01:30 CET) + 2 h is
    # 02:30 UTC, which is 04:30 CEST on the wall clock (not 03:30).
    received = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    found = due(
        "es.ley_10_2025.basic_service_continuity",
        "first_response",
        received=received,
        jurisdiction="ES-MD",
    )
    assert found == dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.UTC)
    assert isinstance(found, dt.datetime)
    assert found.utcoffset() == dt.timedelta(hours=2)
