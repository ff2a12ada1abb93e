"""Escalations: who took which complaint where, when, why, and under which reference.

One row per ``ComplaintEscalated`` event (key: its event_id), internal levels and
external bodies alike; ``external`` says the level is outside the company (consumer
office, ombudsman, arbitration, regulator, court).

The event does not carry the tracking code, and ``keys_of`` sees one event, not the
complaints table: rows keep complaint_id and the register
(``queries/registers/escalations.py``) joins ``complaints`` for the tracking code. That join
also leaves out an escalation of a complaint the register does not hold, or made by another
subject than the one who filed it (intake refuses both), which this table records as the log
has it.
"""

from careledger.contracts.events import ComplaintEscalated
from careledger.contracts.vocabulary import INTERNAL_LEVELS
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.rows import Key, Rows, Table

TABLE = Table(
    "escalations",
    {
        "event_id": "VARCHAR",
        "complaint_id": "VARCHAR",
        "subject_id": "VARCHAR",
        "from_level": "VARCHAR",
        "to_level": "VARCHAR",
        "external": "BOOLEAN",
        "body_name": "VARCHAR",
        "external_reference": "VARCHAR",
        "initiated_by": "VARCHAR",
        "reason_code": "VARCHAR",
        "escalated_at": "TIMESTAMPTZ",
        "recorded_at": "TIMESTAMPTZ",
        "event_ids": "VARCHAR[]",
    },
    key=("event_id",),
)


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, ComplaintEscalated)
    return [(applied.event.event_id,)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    assert isinstance(event, ComplaintEscalated)
    rows.setdefault(
        (event.event_id,),
        {
            "event_id": event.event_id,
            "complaint_id": event.complaint_id,
            "subject_id": event.subject_id,
            "from_level": event.from_level,
            "to_level": event.to_level,
            "external": event.to_level not in INTERNAL_LEVELS,
            "body_name": event.body_name,
            "external_reference": event.external_reference,
            "initiated_by": event.initiated_by,
            "reason_code": event.reason_code,
            "escalated_at": event.occurred_at,
            "recorded_at": applied.recorded_at,
            "event_ids": [event.event_id],
        },
    )


# fresh: the key is the event id, which the ledger applies once (``known``)
# 2: recorded_at is the stream's, not the publisher's claim
PROJECTION = RowProjection(TABLE, (ComplaintEscalated,), keys_of, evolve, fresh=True, version=2)
