"""Valid events for tests that publish straight onto the stream (as another service may)."""

import datetime as dt
import uuid
from pathlib import Path

import msgspec

from careledger.contracts import decode_event, encode
from careledger.contracts.events import Event
from careledger.contracts.subjects import EVENT_TYPE, MSG_ID, event_subject

EXAMPLES = Path(__file__).parents[2] / "contracts" / "examples" / "events"


def example(type_name: str) -> Event:
    return decode_event((EXAMPLES / type_name / "valid.json").read_bytes())


def contact_pair(subject_id: str | None = None) -> list[Event]:
    """A contact opened and closed: an insert and an update of the same register row."""
    contact_id, subject = str(uuid.uuid4()), subject_id or str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    opened = msgspec.structs.replace(
        example("ContactOpened"),
        event_id=str(uuid.uuid4()),
        contact_id=contact_id,
        subject_id=subject,
        occurred_at=now,
        recorded_at=now,
    )
    closed = msgspec.structs.replace(
        example("ContactClosed"),
        event_id=str(uuid.uuid4()),
        contact_id=contact_id,
        subject_id=subject,
        occurred_at=now,
        recorded_at=now,
    )
    return [opened, closed]


def publication(event: Event) -> tuple[str, bytes, dict[str, str]]:
    """(subject, payload, headers) exactly as intake publishes an event."""
    headers = {MSG_ID: event.event_id, EVENT_TYPE: type(event).__name__}
    return event_subject(event), encode(event), headers
