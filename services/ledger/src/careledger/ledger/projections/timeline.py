"""Data-subject timeline: every event about one subject, in log order, with actor and
channel — the basis of an Art. 15 access copy and of erasure scoping."""

from careledger.contracts.events import Event
from careledger.ledger.application.applied import Applied
from careledger.ledger.projections import subject_key
from careledger.ledger.projections._rows import Key, RowProjection, Rows, Table

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


def keys_of(applied: Applied) -> list[Key]:
    return [(applied.sequence,)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    rows[(applied.sequence,)] = {
        "sequence": applied.sequence,
        "subject_id": event.subject_id,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "type": type(event).__name__,
        "aggregate": event.aggregate,
        "aggregate_id": event.aggregate_id,
        "actor_kind": event.actor.kind,
        "actor_id": event.actor.id,
        "channel": event.source.channel,
        "client_id": event.source.client_id,
        "event_ids": [event.event_id],
        subject_key.COLUMN: subject_key.subject_key(event.subject_id),
    }


# fresh: the key is the stream sequence, which the ledger applies once; 2: subject_key
PROJECTION = RowProjection(TABLE, (Event,), keys_of, evolve, fresh=True, version=2)
