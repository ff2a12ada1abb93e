"""Which regimes apply to a case: each one that does is reported separately."""

import datetime as dt

import holidays
import pytest

from careledger.ledger.deadlines import Case, UnknownCalendar, UnknownRegime, deadlines_for
from tests.unit.deadlines.deadline_support import (
    BOGOTA,
    LONDON,
    MADRID,
    local,
    shipped_calendars,
    shipped_regimes,
)


def regimes_for(case: Case) -> set[str]:
    return {d.regime_id for d in deadlines_for(case, shipped_regimes(), shipped_calendars())}


def a_case(received: dt.datetime, jurisdiction: str, sector: str, kind: str, *named: str) -> Case:
    return Case(
        received_at=received,
        jurisdiction=jurisdiction,
        sector=sector,
        kind=kind,
        regimes=frozenset(named),
    )


def test_a_spanish_complaint_gets_each_spanish_regime_separately() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "ES-MD", "telecom", "complaint")
    assert regimes_for(case) == {"es.ley_10_2025", "es.ley_7_2017", "iso.10002.example"}


def test_a_complaint_received_before_ley_10_2025_came_into_force_is_not_under_it() -> None:
    case = a_case(local(MADRID, 2025, 12, 27), "ES-MD", "telecom", "complaint")
    assert "es.ley_10_2025" not in regimes_for(case)


def test_a_uk_payment_complaint_follows_the_payments_rule_not_the_eight_weeks() -> None:
    case = a_case(local(LONDON, 2026, 6, 1), "GB-SCT", "financial.payments", "complaint")
    assert regimes_for(case) == {"uk.fca.disp.payments", "iso.10002.example"}


def test_a_uk_mortgage_complaint_gets_the_general_disp_rule() -> None:
    case = a_case(local(LONDON, 2026, 6, 1), "GB-ENG", "financial.mortgages", "complaint")
    assert regimes_for(case) == {"uk.fca.disp", "iso.10002.example"}


def test_a_data_subject_request_in_spain_gets_the_gdpr_month() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "ES-CT", "telecom", "data_subject_request")
    assert regimes_for(case) == {"eu.gdpr.art12"}


def test_a_colombian_enquiry_is_a_consultation_with_thirty_business_days() -> None:
    # Tue 3 Mar 2026; day 1 is Wed 4: 4-6 (3), 9-13 (8), 16-20 (13), 23 Mar holiday,
    # 24-27 (17), 30, 31, 1 Apr (20), 2-3 Apr holidays, 6-10 (25), 13-17 Apr (30).
    case = a_case(local(BOGOTA, 2026, 3, 3), "CO", "banking", "enquiry")
    found = deadlines_for(case, shipped_regimes(), shipped_calendars())
    first = [(d.regime_id, d.due) for d in found if d.milestone == "final_response"]
    assert first == [("co.ley_1755_2015.art14.consulta", dt.date(2026, 4, 17))]


def test_a_regime_the_case_names_applies_even_outside_its_applies_if() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "ES-MD", "telecom", "complaint", "eu.gdpr.art12")
    assert "eu.gdpr.art12" in regimes_for(case)


def test_a_case_naming_an_unknown_regime_is_refused_with_the_known_ids() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "ES-MD", "telecom", "complaint", "es-ley-10-2025")
    with pytest.raises(UnknownRegime, match=r"es-ley-10-2025.*known: .*es\.ley_10_2025"):
        regimes_for(case)


def test_a_case_outside_every_jurisdiction_gets_no_deadline() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "US-NY", "telecom", "complaint")
    assert regimes_for(case) == set()


def test_a_jurisdiction_without_its_own_calendar_uses_its_countrys() -> None:
    # ES-M (a province code) has no calendar of its own: the national ES calendar is used.
    case = a_case(local(MADRID, 2026, 3, 3), "ES-M", "telecom", "complaint")
    calendars = {d.calendar_id for d in deadlines_for(case, shipped_regimes(), shipped_calendars())}
    assert calendars == {"ES"}


def test_a_regime_needing_a_calendar_nobody_defined_says_how_to_define_it() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "US-NY", "telecom", "complaint", "eu.gdpr.art12")
    with pytest.raises(UnknownCalendar, match="override file"):
        regimes_for(case)


def test_every_deadline_records_its_regime_version_calendar_and_library_version() -> None:
    case = a_case(local(MADRID, 2026, 3, 3), "ES-CT", "telecom", "complaint")
    for found in deadlines_for(case, shipped_regimes(), shipped_calendars()):
        assert found.regime_version >= 1
        assert (found.calendar_id, found.timezone) == ("ES-CT", "Europe/Madrid")
        assert found.holidays_version == holidays.__version__  # type: ignore[attr-defined]
        assert found.calendar_overrides == ()
        assert found.basis
