"""Data-subject timeline: every event about one subject, in log order, with actor and
channel — the basis of an Art. 15 access copy and of erasure scoping."""

from collections.abc import Sequence
from typing import Any

from careledger.contracts.events import Event
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import EventProjection
from careledger.ledger.domain.projections import subject_key
from careledger.ledger.domain.rows import Table

TABLE = Table(
    "timeline",
    {
        "sequence": "BIGINT",
        "subject_id": "VARCHAR",
        "occurred_at": "TIMESTAMPTZ",
        "recorded_at": "TIMESTAMPTZ",
        "type": "VARCHAR",
        "aggregate": "VARCHAR",
        "aggregate_id": "VARCHAR",
        "actor_kind": "VARCHAR",
        "actor_id": "VARCHAR",
        "channel": "VARCHAR",
        "client_id": "VARCHAR",
        "event_ids": "VARCHAR[]",
        subject_key.COLUMN: subject_key.TYPE,
    },
    key=("sequence",),
)


def columns_of(batch: Sequence[Applied]) -> dict[str, list[Any]]:
    """One row per event: where it is in the log, whom it is about, who did it, how."""
    events = [a.event for a in batch]
    subjects = [e.subject_id for e in events]
    return {
        "sequence": [a.sequence for a in batch],
        "subject_id": subjects,
        "occurred_at": [e.occurred_at for e in events],
        "recorded_at": [a.recorded_at for a in batch],
        "type": [type(e).__name__ for e in events],
        "aggregate": [e.aggregate for e in events],
        "aggregate_id": [e.aggregate_id for e in events],
        "actor_kind": [e.actor.kind for e in events],
        "actor_id": [e.actor.id for e in events],
        "channel": [e.source.channel for e in events],
        "client_id": [e.source.client_id for e in events],
        "event_ids": [[e.event_id] for e in events],
        subject_key.COLUMN: [subject_key.subject_key(s) for s in subjects],
    }


# 2: subject_key; 3: recorded_at is the stream's, not the publisher's claim
PROJECTION = EventProjection(TABLE, (Event,), columns_of, version=3)
