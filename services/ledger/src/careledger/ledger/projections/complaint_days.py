"""Complaints by day: what the complaints return counts, per UTC day and per product,
cause and channel, kept from the ``complaints`` register as it changes (``_tally``).

``complaint_days``: per day, ``received`` (complaints received), ``closed`` and its bands,
``upheld`` and ``redress_paid`` (complaints closed that day, as the return counts them),
and ``settled``: complaints received *and* closed by the end of that day (counted on the
later of the two days). Complaints outstanding at the start of a day are then the
received before it minus the settled before it, from rows a day rather than a row a
complaint. ``complaint_redress_days``: per day and currency, the complaints closed with
redress above zero and its amount. Days are UTC dates, as the return's periods are.
"""

from careledger.ledger.projections._rows import Table
from careledger.ledger.projections._tally import Tally, utc_day

DIMENSIONS = {"product": "VARCHAR", "cause": "VARCHAR", "channel": "VARCHAR"}
# The return's columns for complaints closed in its period, and which of them each counts.
CLOSED = (
    ("closed_within_3_business_days", "return_band = 'within_3_business_days'"),
    ("closed_within_8_weeks", "return_band = 'within_8_weeks'"),
    ("closed_after_8_weeks", "return_band = 'after_8_weeks'"),
    ("closed_unbanded", "return_band IS NULL"),
    ("upheld", "outcome IN ('upheld', 'partially_upheld')"),
    ("redress_paid", "redress_amount > 0"),
)
MEASURES = ("received", "settled", "closed", *(name for name, _ in CLOSED))
READS = (
    "received_at",
    "resolved_at",
    *DIMENSIONS,
    "return_band",
    "outcome",
    "redress_amount",
    "redress_currency",
)
RESOLVED = "FROM {rows} WHERE resolved_at IS NOT NULL"

COUNTS = Tally(
    Table(
        "complaint_days",
        {"day": "DATE", **DIMENSIONS, **dict.fromkeys(MEASURES, "BIGINT")},
        key=("day", *DIMENSIONS),
    ),
    READS,
    "SELECT day, product, cause, channel, "
    "count(*) FILTER (WHERE mark = 'received') AS received, "
    "count(*) FILTER (WHERE mark = 'settled') AS settled, "
    "count(*) FILTER (WHERE mark = 'closed') AS closed, "
    + ", ".join(f"count(*) FILTER (WHERE mark = 'closed' AND {c}) AS {n}" for n, c in CLOSED)
    + f" FROM (SELECT 'received' AS mark, {utc_day('received_at')} AS day, * FROM {{rows}} "
    f"UNION ALL SELECT 'settled', {utc_day('greatest(received_at, resolved_at)')}, * {RESOLVED} "
    f"UNION ALL SELECT 'closed', {utc_day('resolved_at')}, * {RESOLVED}) "
    "GROUP BY day, product, cause, channel",
)
REDRESS = Tally(
    Table(
        "complaint_redress_days",
        {
            "day": "DATE",
            **DIMENSIONS,
            "currency": "VARCHAR",
            "complaints": "BIGINT",
            "amount": "DECIMAL(38,4)",
        },
        key=("day", *DIMENSIONS, "currency"),
    ),
    READS,
    f"SELECT {utc_day('resolved_at')} AS day, product, cause, channel, "
    "redress_currency AS currency, count(*) AS complaints, sum(redress_amount) AS amount "
    f"{RESOLVED} AND redress_amount > 0 GROUP BY ALL",
)
TALLIES = (COUNTS, REDRESS)
