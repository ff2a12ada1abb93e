"""Escalation decisions: what each external body decided on a complaint, and when.

One row per (complaint_id, level, subject_id), from ``ComplaintEscalationDecided``;
``decided_at`` is when the body decided (the event's ``occurred_at``). The first decision
recorded for a level stands (intake refuses a second). The subject is part of the key and
the escalation register joins on it (``registers.escalations_with_body_deadlines``), so a
decision published under another subject than the complaint's shows nowhere and cannot
hide the real one.
"""

from careledger.contracts.events import ComplaintEscalationDecided
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.rows import Key, Rows, Table

TABLE = Table(
    "escalation_decisions",
    {
        "complaint_id": "VARCHAR",
        "level": "VARCHAR",
        "subject_id": "VARCHAR",
        "decision": "VARCHAR",
        "external_reference": "VARCHAR",
        "decided_at": "TIMESTAMPTZ",
        "recorded_at": "TIMESTAMPTZ",
        "event_ids": "VARCHAR[]",
    },
    key=("complaint_id", "level", "subject_id"),
)


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, ComplaintEscalationDecided)
    event = applied.event
    return [(event.complaint_id, event.level, event.subject_id)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    assert isinstance(event, ComplaintEscalationDecided)
    rows.setdefault(
        (event.complaint_id, event.level, event.subject_id),
        {
            "complaint_id": event.complaint_id,
            "level": event.level,
            "subject_id": event.subject_id,
            "decision": event.decision,
            "external_reference": event.external_reference,
            "decided_at": event.occurred_at,
            "recorded_at": applied.recorded_at,
            "event_ids": [event.event_id],
        },
    )


# 2: recorded_at is the stream's, not the publisher's claim
PROJECTION = RowProjection(TABLE, (ComplaintEscalationDecided,), keys_of, evolve, version=2)
