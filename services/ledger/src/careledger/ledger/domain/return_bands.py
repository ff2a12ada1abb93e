"""The complaints return's bands: how long a complaint took to close, by the deadline
engine's own counting in the complaint's jurisdiction calendar (FCA DISP 1.10: within 3
business days, within 8 weeks, after). The ``complaints`` register fixes each complaint's
band when it closes (``return_band``), so a return is one query at any size of the log.

``BANDS`` is an internal regime, never applied to complaints: ``within_3_business_days``
counts like ``uk.fca.disp``'s summary resolution (a receipt after 17:00 or on a
non-working day counts from the next business day; the whole third day counts),
``within_8_weeks`` like its final response (the local date of receipt + 56 days, whole
day, not rolled).
"""

import datetime as dt

from careledger.ledger.deadlines import (
    AppliesIf,
    Calendars,
    Case,
    Milestone,
    Regime,
    deadlines_for,
)

BANDS = Regime(
    regime_id="return.disp_1_10.bands",
    version=1,
    title="Complaints return bands: 3 business days, 8 weeks",
    effective_from=dt.date.min,
    effective_to=None,
    applies_if=AppliesIf(jurisdictions=("*",)),
    clock_start="receipt",
    calendar="jurisdiction",
    milestones=(
        Milestone(name="within_3_business_days", offset=3, unit="business_days"),
        Milestone(name="within_8_weeks", offset=8, unit="calendar_weeks", roll_forward=False),
    ),
    extension=None,
    source="FCA DISP 1.5.1R, 1.6.2R; DISP 1.10 and 1 Annex 1R (complaints return)",
)


def band(
    received_at: dt.datetime, resolved_at: dt.datetime, jurisdiction: str, calendars: Calendars
) -> str:
    """``within_3_business_days``, ``within_8_weeks`` or ``after_8_weeks``; DeadlineError
    if the jurisdiction's calendar cannot tell."""
    case = Case(
        received_at=received_at,
        jurisdiction=jurisdiction,
        sector="",
        kind="",
        regimes=frozenset({BANDS.regime_id}),
    )
    for deadline in deadlines_for(case, [BANDS], calendars):
        if resolved_at < deadline.ends_at:
            return deadline.milestone
    return "after_8_weeks"
