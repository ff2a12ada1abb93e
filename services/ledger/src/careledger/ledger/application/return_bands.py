"""The complaints return's bands: how long each complaint closed in a period took, by the
deadline engine's own counting in the complaint's jurisdiction calendar (FCA DISP 1.10:
within 3 business days, within 8 weeks, after).

``BANDS`` is an internal regime, never applied to complaints: ``within_3_business_days``
counts like ``uk.fca.disp``'s summary resolution (a receipt after 17:00 or on a
non-working day counts from the next business day; the whole third day counts),
``within_8_weeks`` like its final response (the local date of receipt + 56 days, whole
day, not rolled).
"""

import datetime as dt

import duckdb
import pyarrow as pa

from careledger.ledger.deadlines import (
    AppliesIf,
    Calendars,
    Case,
    DeadlineError,
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


def banded(
    con: duckdb.DuckDBPyConnection, period: dict[str, dt.datetime], calendars: Calendars
) -> tuple[pa.Table, list[dict[str, str]]]:
    """The band of every complaint closed in ``period``, and those no calendar can band."""
    closed = con.execute(
        "SELECT complaint_id, received_at, resolved_at, jurisdiction FROM complaints "
        "WHERE resolved_at >= $start AND resolved_at < $end ORDER BY complaint_id",
        period,
    ).fetchall()
    rows, unbanded = [], []
    for complaint_id, received_at, resolved_at, jurisdiction in closed:
        try:
            rows.append(
                {
                    "complaint_id": complaint_id,
                    "band": band(received_at, resolved_at, jurisdiction, calendars),
                }
            )
        except DeadlineError as exc:
            unbanded.append({"complaint_id": complaint_id, "reason": str(exc)})
    schema = pa.schema([("complaint_id", pa.string()), ("band", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema), unbanded
