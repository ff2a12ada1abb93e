"""Contacts: every interaction with a customer, by channel, and how it ended.

The first opening and the first closure stand; a closure by another subject than the one
whose contact it is changes nothing (intake refuses both; a direct publisher may not).
"""

from careledger.contracts.events import ContactClosed, ContactOpened
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.rows import Key, Rows, Table

TABLE = Table(
    "contacts",
    {
        "contact_id": "VARCHAR",
        "subject_id": "VARCHAR",
        "channel": "VARCHAR",
        "network": "VARCHAR",
        "direction": "VARCHAR",
        "mode": "VARCHAR",
        "agent": "VARCHAR",
        "opened_at": "TIMESTAMPTZ",
        "closed_at": "TIMESTAMPTZ",
        "outcome": "VARCHAR",
        "status": "VARCHAR",
        "event_ids": "VARCHAR[]",
    },
    key=("contact_id",),
)


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, ContactOpened | ContactClosed)
    return [(applied.event.contact_id,)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    match event:
        case ContactOpened() if (event.contact_id,) not in rows:  # the first opening stands
            rows[(event.contact_id,)] = {
                "contact_id": event.contact_id,
                "subject_id": event.subject_id,
                "channel": event.channel,
                "network": event.network,
                "direction": event.direction,
                "mode": event.mode,
                "agent": event.agent,
                "opened_at": event.occurred_at,
                "closed_at": None,
                "outcome": None,
                "status": "open",
                "event_ids": [event.event_id],
            }
        case ContactClosed():
            row = rows.get((event.contact_id,))
            if row is not None and row["subject_id"] == event.subject_id and not row["closed_at"]:
                row.update(closed_at=event.occurred_at, outcome=event.outcome, status="closed")
                row["event_ids"] = [*row["event_ids"], event.event_id]


# 2: the first closure stands, and only by the contact's own subject
PROJECTION = RowProjection(TABLE, (ContactOpened, ContactClosed), keys_of, evolve, version=2)
