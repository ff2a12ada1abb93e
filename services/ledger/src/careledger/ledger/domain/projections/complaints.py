"""Complaints: every complaint, where it stands, and how it ended.

One row per complaint_id, from ``ComplaintFiled`` (received_at is when it happened,
recorded_at when the log recorded it). Status: open -> acknowledged -> escalated -> resolved; an
escalation to an external body after resolution (the customer's right) makes it
``escalated_externally`` and keeps resolved_at and outcome. ``level`` is the current
escalation level, ``escalated_at`` the last escalation (each one is in ``escalations``).
``extension_notified_at``, ``extension_reason`` and ``extended_to``: the extension notice
(or holding reply) the customer got, if any; per-regime effects are in
``complaint_deadlines``.
``return_band``: how long it took to close, in the complaints return's bands (within 3
business days, within 8 weeks, after; ``domain/return_bands``), fixed when it
closes; NULL with ``return_band_problem`` saying why when its calendar cannot tell.
The return reads the register's tallies by day (``complaint_days``).

Events for a complaint the register does not hold, or by another subject than the one
who filed it, change nothing; nor do facts intake refuses (a second filing,
acknowledgement or resolution; an internal escalation after resolution): the first
record stands and the event stays in ``events`` and the timeline.
"""

import datetime as dt
from decimal import Decimal

from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintDeadlineExtended,
    ComplaintEscalated,
    ComplaintEvent,
    ComplaintFiled,
    ComplaintResolved,
)
from careledger.contracts.vocabulary import INTERNAL_LEVELS
from careledger.ledger.deadlines import Calendars, DeadlineError, Policy
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import Bound, RowProjection
from careledger.ledger.domain.projections import complaint_days
from careledger.ledger.domain.return_bands import band
from careledger.ledger.domain.rows import Key, Row, Rows, Table

TABLE = Table(
    "complaints",
    {
        "complaint_id": "VARCHAR",
        "tracking_code": "VARCHAR",
        "subject_id": "VARCHAR",
        "contact_id": "VARCHAR",
        "received_at": "TIMESTAMPTZ",
        "recorded_at": "TIMESTAMPTZ",
        "channel": "VARCHAR",
        "kind": "VARCHAR",
        "product": "VARCHAR",
        "cause": "VARCHAR",
        "jurisdiction": "VARCHAR",
        "sector": "VARCHAR",
        "vulnerable": "BOOLEAN",
        "regimes": "VARCHAR[]",
        "acknowledged_at": "TIMESTAMPTZ",
        "deadline_communicated": "DATE",
        "extension_notified_at": "TIMESTAMPTZ",
        "extension_reason": "VARCHAR",
        "extended_to": "DATE",
        "level": "VARCHAR",
        "escalated_at": "TIMESTAMPTZ",
        "resolved_at": "TIMESTAMPTZ",
        "outcome": "VARCHAR",
        "redress_amount": "DECIMAL(18,4)",
        "redress_currency": "VARCHAR",
        "redress_kind": "VARCHAR",
        "escalation_rights_communicated": "BOOLEAN",
        "escalation_rights_text_version": "VARCHAR",
        "return_band": "VARCHAR",
        "return_band_problem": "VARCHAR",
        "status": "VARCHAR",
        "event_ids": "VARCHAR[]",
    },
    key=("complaint_id",),
)
HANDLES = (
    ComplaintFiled,
    ComplaintAcknowledged,
    ComplaintDeadlineExtended,
    ComplaintEscalated,
    ComplaintResolved,
)
SCALE = Decimal("0.0001")  # DECIMAL(18,4)


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, ComplaintEvent)
    return [(applied.event.complaint_id,)]


def evolve(rows: Rows, applied: Applied, calendars: Calendars) -> None:
    event = applied.event
    if isinstance(event, ComplaintFiled):
        rows.setdefault((event.complaint_id,), _filed(event, applied.recorded_at))
        return
    assert isinstance(event, ComplaintEvent)
    row = rows.get((event.complaint_id,))
    if row is None or row["subject_id"] != event.subject_id:
        return
    resolved = row["resolved_at"] is not None
    match event:
        case ComplaintAcknowledged() if row["acknowledged_at"] is None and not resolved:
            row.update(
                acknowledged_at=event.occurred_at,
                deadline_communicated=event.deadline_communicated,
                status="acknowledged" if row["status"] == "open" else row["status"],
            )
        case ComplaintDeadlineExtended() if row["extension_notified_at"] is None and not resolved:
            row.update(
                extension_notified_at=event.occurred_at,
                extension_reason=event.reason_code,
                extended_to=event.new_deadline,
            )
        case ComplaintEscalated() if not resolved or event.to_level not in INTERNAL_LEVELS:
            status = "escalated_externally" if resolved else "escalated"
            row.update(level=event.to_level, escalated_at=event.occurred_at, status=status)
        case ComplaintResolved() if not resolved:
            redress = event.redress
            row.update(
                resolved_at=event.occurred_at,
                outcome=event.outcome,
                redress_amount=Decimal(redress.amount).quantize(SCALE) if redress else None,
                redress_currency=redress.currency if redress else None,
                redress_kind=redress.kind if redress else None,
                escalation_rights_communicated=event.escalation_rights_communicated,
                escalation_rights_text_version=event.escalation_rights_text_version,
                status="resolved",
            )
            row.update(_band(row["received_at"], event.occurred_at, row["jurisdiction"], calendars))
        case _:
            return
    row["event_ids"] = [*row["event_ids"], event.event_id]


def _band(
    received_at: dt.datetime, resolved_at: dt.datetime, jurisdiction: str, calendars: Calendars
) -> Row:
    try:
        return {"return_band": band(received_at, resolved_at, jurisdiction, calendars)}
    except DeadlineError as exc:
        return {"return_band": None, "return_band_problem": str(exc)}


def _filed(event: ComplaintFiled, recorded_at: dt.datetime) -> Row:
    return dict.fromkeys(TABLE.columns) | {
        "complaint_id": event.complaint_id,
        "tracking_code": event.tracking_code,
        "subject_id": event.subject_id,
        "contact_id": event.contact_id,
        "received_at": event.occurred_at,
        "recorded_at": recorded_at,
        "channel": event.channel,
        "kind": event.kind,
        "product": event.product,
        "cause": event.cause,
        "jurisdiction": event.jurisdiction,
        "sector": event.sector,
        "vulnerable": event.vulnerable,
        "regimes": list(event.regimes),
        "level": "frontline",
        "status": "open",
        "event_ids": [event.event_id],
    }


def projection(policy: Policy) -> RowProjection:
    # 2: extension columns; 3: the return band; 4: recorded_at is the stream's
    return RowProjection(
        TABLE,
        HANDLES,
        keys_of,
        Bound(evolve, policy.calendars),
        version=4,
        tallies=complaint_days.TALLIES,
    )
