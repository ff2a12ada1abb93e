"""Extensions: a notice due by the original deadline, and a conditional extended deadline."""

import datetime as dt

from careledger.ledger.deadlines import Case, deadlines_for
from tests.unit.deadlines.deadline_support import (
    BOGOTA,
    LONDON,
    MADRID,
    deadline,
    local,
    shipped_calendars,
    shipped_regimes,
)

D = dt.date


def test_a_gdpr_extension_gives_three_months_if_notified_within_the_first() -> None:
    # Received Sat 31 Jan 2026. One month: 28 Feb (no 31st) is a Saturday -> Mon 2 Mar.
    # Extended: 1 + 2 = 3 months -> 30 Apr (no 31st), a Thursday.
    received = local(MADRID, 2026, 1, 31)
    notice = deadline(
        "eu.gdpr.art12", "final_response_extension_notice", received=received, jurisdiction="ES"
    )
    extended = deadline(
        "eu.gdpr.art12", "final_response_extended", received=received, jurisdiction="ES"
    )
    assert notice.due == D(2026, 3, 2)
    assert extended.due == D(2026, 4, 30)
    assert extended.condition == "only if the extension was notified by 2026-03-02"


def test_a_payment_complaint_may_take_35_business_days_with_a_holding_reply_by_day_15() -> None:
    # Mon 1 Jun 2026, England. Day 15 is Mon 22 Jun; then 23-26 (19), 29 Jun-3 Jul (24),
    # 6-10 (29), 13-17 (34), Mon 20 Jul (35).
    received = local(LONDON, 2026, 6, 1)
    regime = "uk.fca.disp.payments"
    holding = deadline(
        regime, "final_response_extension_notice", received=received, jurisdiction="GB-ENG"
    )
    final = deadline(regime, "final_response_extended", received=received, jurisdiction="GB-ENG")
    assert (holding.due, final.due) == (D(2026, 6, 22), D(2026, 7, 20))


def test_a_colombian_petition_may_be_extended_to_at_most_double_the_term() -> None:
    # Fri 20 Mar 2026: day 15 is Wed 15 Apr. Continuing: 16, 17 (17), 20-24 (22),
    # 27-30 (26), 1 May Labour Day, 4-7 May (30) -> Thu 7 May.
    received = local(BOGOTA, 2026, 3, 20)
    extended = deadline(
        "co.ley_1755_2015.art14", "final_response_extended", received=received, jurisdiction="CO"
    )
    assert extended.due == D(2026, 5, 7)
    assert extended.check, "the 'max double' rule is not yet confirmed in the primary text"


def test_only_the_extension_notice_and_the_extended_deadline_are_conditional() -> None:
    case = Case(
        received_at=local(LONDON, 2026, 6, 1),
        jurisdiction="GB-ENG",
        sector="financial.payments",
        kind="complaint",
    )
    found = deadlines_for(case, shipped_regimes(), shipped_calendars())
    conditions = {
        d.milestone: d.condition is not None for d in found if d.regime_id == "uk.fca.disp.payments"
    }
    assert conditions == {
        "summary_resolution": False,
        "final_response": False,
        "final_response_extension_notice": True,
        "final_response_extended": True,
    }
