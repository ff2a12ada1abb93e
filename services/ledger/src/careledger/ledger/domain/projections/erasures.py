"""Erasures: was this data subject erased (GDPR Art. 17), when, why, and what was kept?

One row per erased subject. The registers keep their structural rows after an erasure
(consent proof, complaint files: Art. 17(3)(b), (e)); they learn of it by joining this
table on ``subject_id`` (``queries/registers/consents.py``). What was kept is stored as three
parallel lists, one entry per retained record class: the class, its Art. 17(3)
exemption and the reason.

Intake refuses a second erasure of a subject; should one reach the log it changes
nothing here (the first erasure stands; the event stays in ``events`` and the timeline).
"""

from careledger.contracts.events import SubjectErased
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.rows import Key, Rows, Table

TABLE = Table(
    "erasures",
    {
        "subject_id": "VARCHAR",
        "erased_at": "TIMESTAMPTZ",
        "recorded_at": "TIMESTAMPTZ",
        "legal_basis": "VARCHAR",
        "erased_by": "VARCHAR",
        "retained_record_classes": "VARCHAR[]",
        "retained_exemptions": "VARCHAR[]",
        "retained_reasons": "VARCHAR[]",
        "event_ids": "VARCHAR[]",
    },
    key=("subject_id",),
)


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, SubjectErased)
    return [(applied.event.subject_id,)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    assert isinstance(event, SubjectErased)
    rows.setdefault(
        (event.subject_id,),
        {
            "subject_id": event.subject_id,
            "erased_at": event.occurred_at,
            "recorded_at": applied.recorded_at,
            "legal_basis": event.legal_basis,
            "erased_by": f"{event.actor.kind}:{event.actor.id}",
            "retained_record_classes": [r.record_class for r in event.retained],
            "retained_exemptions": [r.exemption for r in event.retained],
            "retained_reasons": [r.reason for r in event.retained],
            "event_ids": [event.event_id],
        },
    )


# 2: recorded_at is the stream's, not the publisher's claim
PROJECTION = RowProjection(TABLE, (SubjectErased,), keys_of, evolve, version=2)
