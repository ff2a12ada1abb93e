"""Complaint deadlines as an auditor reads them: each milestone with its status as of the
time of asking, and the days the complaint has been open."""

import datetime as dt

from careledger.ledger.deadlines import DeadlineError, Policy, business_days_open
from careledger.ledger.queries.register import Register, Row

DEFAULT_AT_RISK_MARGIN = dt.timedelta(days=2)


def with_status(
    now: dt.datetime | None = None, at_risk_margin: dt.timedelta = DEFAULT_AT_RISK_MARGIN
) -> str:
    """The register as an auditor reads it: each row with its status and days open.

    ``status``: ``met`` (met in time); ``breached`` (met late, or a duty not met by its
    due time); ``lapsed`` (an option, conditional or untracked milestone whose time passed
    without it, or an option met late: not a breach by itself); ``at_risk`` (not met,
    within ``at_risk_margin`` of lapsing); ``open``; ``not_computed`` (no due date);
    ``extended`` (a base milestone not met in time, replaced by its extended deadline after
    an extension notice in time).
    ``days_open``: calendar days, in the calendar's timezone, from receipt to the
    resolution or to ``now``. ``now`` defaults to the query's ``now()``. (Business days
    open need the calendar: ``finish`` adds ``business_days_open`` to each row.)
    """
    if now is not None and now.utcoffset() is None:
        raise ValueError("with_status(): now must be timezone-aware")
    at = "now()" if now is None else f"TIMESTAMPTZ '{now.astimezone(dt.UTC).isoformat()}'"
    margin = f"to_microseconds({at_risk_margin // dt.timedelta(microseconds=1)})"

    def in_time(instant: str) -> str:
        return f"(CASE WHEN due_whole_day THEN {instant} < due ELSE {instant} <= due END)"

    zone = "coalesce(timezone, 'UTC')"
    return (
        "SELECT *, CASE"
        " WHEN due IS NULL THEN 'not_computed'"
        f" WHEN met_at IS NOT NULL AND {in_time('met_at')} THEN 'met'"
        " WHEN obligation = 'extended' THEN 'extended'"
        " WHEN met_at IS NOT NULL AND obligation = 'option' THEN 'lapsed'"
        " WHEN met_at IS NOT NULL THEN 'breached'"
        f" WHEN NOT {in_time(at)} AND obligation = 'duty' THEN 'breached'"
        f" WHEN NOT {in_time(at)} THEN 'lapsed'"
        f" WHEN {at} >= due - {margin} THEN 'at_risk'"
        " ELSE 'open' END AS status,"
        f" date_diff('day', CAST(timezone({zone}, received_at) AS DATE),"
        f" CAST(timezone({zone}, coalesce(resolved_at, {at})) AS DATE)) AS days_open"
        " FROM complaint_deadlines"
    )


def with_business_days_open(row: Row, policy: Policy, now: dt.datetime) -> Row:
    """Working days of the row's calendar from receipt to resolution (or ``now``); None
    for a row without a calendar or with a day beyond the calendar's years."""
    days = None
    if row["calendar_id"] is not None:
        calendar = policy.calendars.get(row["calendar_id"])
        try:
            days = business_days_open(calendar, row["received_at"], row["resolved_at"] or now)
        except DeadlineError:
            days = None
    return row | {"business_days_open": days}


REGISTER = Register(
    "complaint_deadlines",
    reads=("complaint_deadlines",),
    filters=("complaint_id", "tracking_code", "regime_id", "milestone", "status"),
    order=("received_at", "complaint_id", "regime_id", "milestone"),
    source=lambda policy, now: with_status(now),
    finish=with_business_days_open,
)
