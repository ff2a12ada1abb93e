"""Calendars: the library's national and regional holidays, a fixed range, operator overrides."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from careledger.ledger.deadlines import (
    OutOfCalendarRange,
    PolicyFileError,
    UnknownCalendar,
    load_calendars,
)
from careledger.ledger.deadlines._catalogue import calendar_specs
from tests.unit.deadlines.deadline_support import MADRID, NO_ENV, deadline, due, local

D = dt.date
SAN_ISIDRO = """
calendar = "ES-MD"

[[added]]
date = 2026-05-15
name = "San Isidro (Madrid city)"
source = "Ayuntamiento de Madrid, fiestas locales 2026"
"""


@pytest.mark.parametrize(
    ("calendar_id", "day", "is_holiday"),
    [
        pytest.param("ES-MD", D(2026, 5, 2), True, id="madrid-day"),
        pytest.param("ES", D(2026, 5, 2), False, id="not-national"),
        pytest.param("ES-CT", D(2026, 9, 11), True, id="diada"),
        pytest.param("ES-MD", D(2026, 9, 11), False, id="not-in-madrid"),
        pytest.param("ES-AN", D(2026, 2, 28), True, id="andalusia-day"),
        pytest.param("GB-SCT", D(2026, 1, 2), True, id="scottish-2-jan"),
        pytest.param("GB-ENG", D(2026, 1, 2), False, id="not-english"),
        pytest.param("GB-SCT", D(2026, 11, 30), True, id="st-andrew"),
        pytest.param("CO", D(2026, 3, 23), True, id="san-jose-moved-to-monday"),
    ],
)
def test_the_library_knows_which_regions_keep_which_holidays(
    calendar_id: str, day: dt.date, is_holiday: bool
) -> None:
    calendar = load_calendars(environ=NO_ENV).get(calendar_id)
    assert (day in calendar.holidays) is is_holiday


def test_every_catalogue_calendar_is_known_to_the_holidays_library() -> None:
    calendars = load_calendars(environ=NO_ENV)
    for calendar_id in calendar_specs([]):
        assert calendars.get(calendar_id).holidays, calendar_id


def test_a_due_date_beyond_the_supported_years_is_an_error_not_a_guess() -> None:
    # 15 Dec 2028 + 1 month = 15 Jan 2029: outside 2025-2028.
    with pytest.raises(OutOfCalendarRange, match=r"ES-MD covers 2025-2028; 2029-01-15"):
        due(
            "eu.gdpr.art12",
            "final_response",
            received=local(MADRID, 2028, 12, 15),
            jurisdiction="ES-MD",
        )


def test_business_days_running_into_an_unsupported_year_are_an_error() -> None:
    with pytest.raises(OutOfCalendarRange):
        due(
            "es.ley_10_2025",
            "final_response",
            received=local(MADRID, 2028, 12, 20),
            jurisdiction="ES",
        )


def test_a_receipt_before_the_supported_years_is_an_error() -> None:
    with pytest.raises(OutOfCalendarRange):
        due(
            "es.ley_7_2017",
            "final_response",
            received=local(MADRID, 2024, 12, 2),
            jurisdiction="ES",
        )


def test_the_supported_years_are_configurable_from_the_environment() -> None:
    calendars = load_calendars(environ={"CARELEDGER_CALENDAR_YEARS": "2029-2030"})
    found = due(
        "eu.gdpr.art12",
        "final_response",
        received=local(MADRID, 2029, 12, 15),
        jurisdiction="ES-MD",
        calendars=calendars,
    )
    assert found == D(2030, 1, 15)  # a Tuesday, not a holiday in Madrid


def test_a_malformed_supported_years_setting_is_refused() -> None:
    with pytest.raises(PolicyFileError, match="CARELEDGER_CALENDAR_YEARS"):
        load_calendars(environ={"CARELEDGER_CALENDAR_YEARS": "2028"})


def test_an_operator_override_adding_a_local_holiday_moves_the_due_date_later(
    tmp_path: Path,
) -> None:
    # 15 Apr 2026 + 1 month = Fri 15 May. With San Isidro added, roll to Mon 18 May.
    (tmp_path / "madrid-city.toml").write_text(SAN_ISIDRO)
    received = local(MADRID, 2026, 4, 15)
    before = due("eu.gdpr.art12", "final_response", received=received, jurisdiction="ES-MD")
    overridden = load_calendars(tmp_path, environ=NO_ENV)
    after = deadline(
        "eu.gdpr.art12",
        "final_response",
        received=received,
        jurisdiction="ES-MD",
        calendars=overridden,
    )
    assert (before, after.due) == (D(2026, 5, 15), D(2026, 5, 18))
    (used,) = after.calendar_overrides
    assert used.name == "madrid-city.toml"
    assert used.sha256 == hashlib.sha256(SAN_ISIDRO.encode()).hexdigest()
    assert "San Isidro" in after.basis


def test_override_files_are_read_from_the_environment_directory(tmp_path: Path) -> None:
    (tmp_path / "madrid-city.toml").write_text(SAN_ISIDRO)
    calendars = load_calendars(environ={"CARELEDGER_CALENDARS_DIR": str(tmp_path)})
    assert D(2026, 5, 15) in calendars.get("ES-MD").holidays


def test_a_national_override_applies_to_every_region_of_the_country(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text(SAN_ISIDRO.replace('"ES-MD"', '"ES"'))
    calendars = load_calendars(tmp_path, environ=NO_ENV)
    assert D(2026, 5, 15) in calendars.get("ES-CT").holidays
    assert D(2026, 5, 15) not in calendars.get("GB-ENG").holidays


def test_an_override_can_remove_a_holiday_the_library_has(tmp_path: Path) -> None:
    (tmp_path / "remove.toml").write_text(
        'calendar = "ES-CT"\n[[removed]]\ndate = 2026-12-26\nreason = "r"\nsource = "s"\n'
    )
    calendars = load_calendars(tmp_path, environ=NO_ENV)
    assert D(2026, 12, 26) not in calendars.get("ES-CT").holidays


def test_removing_a_day_that_is_not_a_holiday_is_refused(tmp_path: Path) -> None:
    (tmp_path / "remove.toml").write_text(
        'calendar = "ES-MD"\n[[removed]]\ndate = 2026-12-26\nreason = "r"\nsource = "s"\n'
    )
    with pytest.raises(PolicyFileError, match="2026-12-26 is not a holiday of ES-MD"):
        load_calendars(tmp_path, environ=NO_ENV).get("ES-MD")


def test_an_added_holiday_without_its_source_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(SAN_ISIDRO.replace('source = "Ayuntamiento', 'x = "'))
    with pytest.raises(PolicyFileError, match=r"bad.toml added\[0\]: unknown field\(s\) x"):
        load_calendars(tmp_path, environ=NO_ENV)


def test_an_override_can_define_a_calendar_the_catalogue_lacks(tmp_path: Path) -> None:
    (tmp_path / "us-ny.toml").write_text(
        'calendar = "US-NY"\ncountry = "US"\nsubdiv = "NY"\ntimezone = "America/New_York"\n'
    )
    calendar = load_calendars(tmp_path, environ=NO_ENV).get("US-NY")
    assert (calendar.timezone, D(2026, 7, 4) in calendar.holidays) == ("America/New_York", True)


def test_a_calendar_with_an_unknown_timezone_is_refused(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_text('calendar = "FR-X"\ncountry = "FR"\ntimezone = "Paris"\n')
    with pytest.raises(UnknownCalendar, match="unknown timezone 'Paris'"):
        load_calendars(tmp_path, environ=NO_ENV).get("FR-X")
