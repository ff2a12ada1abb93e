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

from collections.abc import Iterator
from decimal import Decimal

from careledger.ledger.domain.rows import Key, Row, Table
from careledger.ledger.domain.tally import Measures, Tally, utc_day

DIMENSIONS = ("product", "cause", "channel")
BANDS = ("within_3_business_days", "within_8_weeks", "after_8_weeks")
UPHELD = frozenset({"upheld", "partially_upheld"})
# What the return counts of the complaints closed in its period, in this order.
CLOSED = (*(f"closed_{band}" for band in BANDS), "closed_unbanded", "upheld", "redress_paid")
MEASURES = ("received", "settled", "closed", *CLOSED)
READS = (
    "received_at",
    "resolved_at",
    *DIMENSIONS,
    "return_band",
    "outcome",
    "redress_amount",
    "redress_currency",
)


def counts(row: Row) -> Iterator[tuple[Key, Measures]]:
    dimensions = tuple(row[d] for d in DIMENSIONS)
    received, resolved = row["received_at"], row["resolved_at"]
    yield (utc_day(received), *dimensions), {"received": 1}
    if resolved is None:
        return
    yield (utc_day(max(received, resolved)), *dimensions), {"settled": 1}
    closed = {
        "closed": 1,
        "upheld": int(row["outcome"] in UPHELD),
        "redress_paid": int(_redress(row) > 0),
    }
    band = row["return_band"]
    if band is None:
        closed["closed_unbanded"] = 1
    elif band in BANDS:
        closed[f"closed_{band}"] = 1
    yield (utc_day(resolved), *dimensions), closed


def redress(row: Row) -> Iterator[tuple[Key, Measures]]:
    if row["resolved_at"] is not None and _redress(row) > 0:
        key = (utc_day(row["resolved_at"]), *(row[d] for d in DIMENSIONS), row["redress_currency"])
        yield key, {"complaints": 1, "amount": row["redress_amount"]}


def _redress(row: Row) -> Decimal:
    amount: Decimal | None = row["redress_amount"]
    return amount or Decimal(0)


COLUMNS = dict.fromkeys(DIMENSIONS, "VARCHAR")
COUNTS = Tally(
    Table(
        "complaint_days",
        {"day": "DATE", **COLUMNS, **dict.fromkeys(MEASURES, "BIGINT")},
        key=("day", *DIMENSIONS),
    ),
    READS,
    counts,
)
REDRESS = Tally(
    Table(
        "complaint_redress_days",
        {
            "day": "DATE",
            **COLUMNS,
            "currency": "VARCHAR",
            "complaints": "BIGINT",
            "amount": "DECIMAL(38,4)",
        },
        key=("day", *DIMENSIONS, "currency"),
    ),
    READS,
    redress,
)
TALLIES = (COUNTS, REDRESS)
