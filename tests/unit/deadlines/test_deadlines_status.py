"""Where a deadline stands: met, breached, at risk or open."""

import datetime as dt

import pytest

from careledger.ledger.deadlines import Deadline, status
from tests.unit.deadlines.deadline_support import MADRID, deadline, local

# Ley 10/2025, received Tue 3 Mar 2026 10:00 in Madrid: due Tue 24 Mar 2026 (whole day).
DUE_DAY = deadline(
    "es.ley_10_2025", "final_response", received=local(MADRID, 2026, 3, 3), jurisdiction="ES-MD"
)
# Two hours from 3 Mar 2026 10:00 Madrid: due at 12:00 Madrid.
DUE_HOUR = deadline(
    "es.ley_10_2025.basic_service_continuity",
    "first_response",
    received=local(MADRID, 2026, 3, 3),
    jurisdiction="ES-MD",
)
MARGIN = dt.timedelta(days=2)


def test_the_sample_deadlines_are_what_the_rules_give() -> None:
    assert DUE_DAY.due == dt.date(2026, 3, 24)
    assert DUE_DAY.ends_at == local(MADRID, 2026, 3, 25, 0, 0)
    assert DUE_HOUR.due == local(MADRID, 2026, 3, 3, 12, 0)


@pytest.mark.parametrize(
    ("subject", "completed_at", "now", "expected"),
    [
        # Completed during the due day, local time: met.
        pytest.param(DUE_DAY, local(MADRID, 2026, 3, 24, 23, 59), None, "met", id="last-minute"),
        # Completed at local midnight after the due day: breached.
        pytest.param(DUE_DAY, local(MADRID, 2026, 3, 25, 0, 0), None, "breached", id="day-late"),
        # 23:30 UTC on 24 Mar is 00:30 on 25 Mar in Madrid: breached.
        pytest.param(
            DUE_DAY,
            dt.datetime(2026, 3, 24, 23, 30, tzinfo=dt.UTC),
            None,
            "breached",
            id="late-in-local-time",
        ),
        # Not completed, more than two days left: open.
        pytest.param(DUE_DAY, None, local(MADRID, 2026, 3, 20), "open", id="open"),
        # Not completed, within the two-day margin of the lapse: at risk.
        pytest.param(DUE_DAY, None, local(MADRID, 2026, 3, 23, 1), "at_risk", id="at-risk"),
        # Not completed and lapsed: breached.
        pytest.param(DUE_DAY, None, local(MADRID, 2026, 3, 25, 9), "breached", id="lapsed"),
        # A due time is itself the last instant in time.
        pytest.param(DUE_HOUR, local(MADRID, 2026, 3, 3, 12, 0), None, "met", id="on-the-hour"),
        pytest.param(
            DUE_HOUR, local(MADRID, 2026, 3, 3, 12, 1), None, "breached", id="minute-late"
        ),
    ],
)
def test_status_compares_completion_or_now_with_the_deadline(
    subject: Deadline,
    completed_at: dt.datetime | None,
    now: dt.datetime | None,
    expected: str,
) -> None:
    clock = now or local(MADRID, 2026, 6, 1)  # when completed, "now" does not matter
    assert status(subject, completed_at, clock, MARGIN) == expected


def test_the_at_risk_margin_is_the_callers_choice() -> None:
    now = local(MADRID, 2026, 3, 20)
    assert status(DUE_DAY, None, now, dt.timedelta(days=6)) == "at_risk"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        status(DUE_DAY, None, dt.datetime(2026, 3, 20), MARGIN)
