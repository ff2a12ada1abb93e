"""Where a deadline stands: met, breached, at risk, or open."""

import datetime as dt

from careledger.ledger.deadlines._model import Deadline, Status

DEFAULT_AT_RISK_MARGIN = dt.timedelta(days=2)


def status(
    deadline: Deadline,
    completed_at: dt.datetime | None,
    now: dt.datetime,
    at_risk_margin: dt.timedelta = DEFAULT_AT_RISK_MARGIN,
) -> Status:
    """``met``/``breached`` once completed; before that ``breached`` once it lapsed,
    ``at_risk`` within ``at_risk_margin`` of lapsing, else ``open``.

    A due date counts whole (until the local midnight after it); a due datetime is the
    last instant in time.
    """
    for name, value in (("completed_at", completed_at), ("now", now)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"status(): {name} must be timezone-aware")
    if at_risk_margin < dt.timedelta(0):
        raise ValueError("status(): at_risk_margin must not be negative")
    if completed_at is not None:
        return "met" if _in_time(deadline, completed_at) else "breached"
    if not _in_time(deadline, now):
        return "breached"
    return "at_risk" if now >= deadline.ends_at - at_risk_margin else "open"


def _in_time(deadline: Deadline, at: dt.datetime) -> bool:
    if isinstance(deadline.due, dt.datetime):
        return at <= deadline.ends_at
    return at < deadline.ends_at
