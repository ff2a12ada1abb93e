"""Valid events for the ledger's tests, and a real ledger to feed them to.

Each builder starts from the contract's own valid example (contracts/examples/events)
and replaces the ids and times, so the events stay valid as the contract evolves. A
``Ledger`` drives a real DuckDB ``LedgerStore`` the way the consumer does: log messages
with stream sequences, ``ingest``, then ``commit`` — one call to ``feed`` is one batch.

Three instants per event: it occurred at ``when``, its publisher claims it was recorded
``CLAIMED_AFTER`` later, and the stream stores it ``STORED_AFTER`` after that claim (the
ledger's recorded time, ``recorded(when)``) unless a test says when (``Stored``): the
claim and the stored time always differ, so a test sees which one a row holds.
"""

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from careledger.contracts import encode
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintDeadlineExtended,
    ComplaintEscalated,
    ComplaintEscalationDecided,
    ComplaintFiled,
    ComplaintResolved,
    ConsentGiven,
    ConsentWithdrawn,
    ContactClosed,
    ContactOpened,
    Event,
    SubjectErased,
)
from careledger.contracts.subjects import event_subject
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.projection import Projection
from careledger.ledger.ingest import tables
from careledger.ledger.ingest.ingest import LogMessage, Position, ingest
from tests.support.policy import shipped_policy

E = TypeVar("E", bound=Event)
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "events"
_serial = itertools.count(1)


def an_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"careledger-ledger-test:{name}"))


SUBJECT, OTHER_SUBJECT = an_id("subject"), an_id("other-subject")
CONTACT, COMPLAINT, CONSENT = an_id("contact"), an_id("complaint"), an_id("consent")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CLAIMED_AFTER = dt.timedelta(seconds=2)  # the publisher's recorded_at, after occurred_at
STORED_AFTER = dt.timedelta(seconds=1)  # when the stream stores it, after that claim


def at(minutes: float) -> dt.datetime:
    """A moment ``minutes`` after T0 (the stories below count in minutes)."""
    return T0 + dt.timedelta(minutes=minutes)


def _event(cls: type[E], when: dt.datetime, fields: dict[str, Any]) -> E:
    """The contract's valid example of ``cls`` with fresh ids, ``when`` and ``fields``;
    validated again, so a test cannot feed the ledger an event the contract refuses."""
    template = msgspec.json.decode((EXAMPLES / cls.__name__ / "valid.json").read_bytes(), type=cls)
    event = msgspec.structs.replace(
        template,
        **{
            "event_id": an_id(f"event-{next(_serial)}"),
            "occurred_at": when,
            "recorded_at": when + CLAIMED_AFTER,
            "subject_id": SUBJECT,
            "correlation_id": an_id("correlation"),
            "causation_id": None,
        }
        | fields,
    )
    return msgspec.json.decode(encode(event), type=cls)


def recorded(when: dt.datetime) -> dt.datetime:
    """The ledger's recorded time of an event built to occur at ``when`` (not ``Stored``)."""
    return when + CLAIMED_AFTER + STORED_AFTER


@dataclass(frozen=True)
class Stored:
    """``event`` as the stream stored it ``at``, whatever its ``recorded_at`` claims."""

    event: Event
    at: dt.datetime


def stored_at(item: Event | Stored) -> dt.datetime:
    """When the stream stored ``item``: its own ``at``, or ``STORED_AFTER`` its claim."""
    return item.at if isinstance(item, Stored) else item.recorded_at + STORED_AFTER


def message(sequence: int, item: Event | Stored, data: bytes | None = None) -> LogMessage:
    """``item`` as the consumer receives it at ``sequence``: its bytes (or ``data``), and the
    instant the stream stored it."""
    event = item.event if isinstance(item, Stored) else item
    payload = encode(event) if data is None else data
    return LogMessage(sequence, event_subject(event), payload, recorded_at=stored_at(item))


def contact_opened(when: dt.datetime = T0, **fields: Any) -> ContactOpened:
    return _event(ContactOpened, when, {"contact_id": CONTACT} | fields)


def contact_closed(when: dt.datetime = T0, **fields: Any) -> ContactClosed:
    return _event(ContactClosed, when, {"contact_id": CONTACT} | fields)


def consent_given(when: dt.datetime = T0, **fields: Any) -> ConsentGiven:
    return _event(ConsentGiven, when, {"consent_id": CONSENT, "contact_id": CONTACT} | fields)


def consent_withdrawn(when: dt.datetime = T0, **fields: Any) -> ConsentWithdrawn:
    return _event(ConsentWithdrawn, when, {"consent_id": CONSENT} | fields)


def complaint_filed(when: dt.datetime = T0, **fields: Any) -> ComplaintFiled:
    return _event(ComplaintFiled, when, {"complaint_id": COMPLAINT, "contact_id": CONTACT} | fields)


def complaint_acknowledged(when: dt.datetime = T0, **fields: Any) -> ComplaintAcknowledged:
    return _event(ComplaintAcknowledged, when, {"complaint_id": COMPLAINT} | fields)


def complaint_escalated(when: dt.datetime = T0, **fields: Any) -> ComplaintEscalated:
    return _event(ComplaintEscalated, when, {"complaint_id": COMPLAINT} | fields)


def complaint_extended(when: dt.datetime = T0, **fields: Any) -> ComplaintDeadlineExtended:
    return _event(ComplaintDeadlineExtended, when, {"complaint_id": COMPLAINT} | fields)


def escalation_decided(when: dt.datetime = T0, **fields: Any) -> ComplaintEscalationDecided:
    return _event(ComplaintEscalationDecided, when, {"complaint_id": COMPLAINT} | fields)


def complaint_resolved(when: dt.datetime = T0, **fields: Any) -> ComplaintResolved:
    return _event(ComplaintResolved, when, {"complaint_id": COMPLAINT} | fields)


def subject_erased(when: dt.datetime = T0, **fields: Any) -> SubjectErased:
    return _event(SubjectErased, when, fields)


class Ledger:
    """A ledger file fed batch by batch, holding its position as the consumer does.

    The position is the last outcome's, not ``store.position()``: on DuckDB 2.0 that
    method's ``fetchone()`` leaves a result open and the next ``register`` fails.
    """

    def __init__(self, path: Path, projections: Sequence[Projection] | None = None) -> None:
        """``projections``: the registers to keep in place of the shipped ones (their
        tables are created; the shipped ones' exist too, as the store opens with them)."""
        self.store = LedgerStore(path, shipped_policy())
        if projections is not None:
            self.store.projections = tuple(projections)
            for projection in projections:
                tables.create(self.store.con, projection)
        self.position = Position()

    def feed(self, *events: Event | Stored) -> list[LogMessage]:
        """Publish ``events`` at the next stream sequences and apply them as one batch."""
        first = self.position.sequence + 1
        messages = [message(sequence, event) for sequence, event in enumerate(events, start=first)]
        self.deliver(messages)
        return messages

    def deliver(self, messages: Sequence[LogMessage]) -> None:
        """Apply log messages as one batch (a redelivery, if the ledger already holds them)."""
        outcome = ingest(messages, self.position, self.store)
        self.store.commit(outcome, self.position)
        self.position = outcome.position

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The rows of a query, as dicts."""
        result: list[dict[str, Any]] = self.store.con.sql(sql).to_arrow_table().to_pylist()
        return result

    def table(self, name: str, order: str) -> list[dict[str, Any]]:
        return self.rows(f"SELECT * FROM {name} ORDER BY {order}")

    def close(self) -> None:
        self.store.close()


def with_first(event: Event, field: str, value: str, sequence: int = 0) -> LogMessage:
    """``event`` published with ``field`` written once more, first, as ``value``: JSON
    readers disagree on which of two equal keys counts (msgspec takes the last, DuckDB's
    ``json_extract`` the first)."""
    data = b'{"' + field.encode() + b'":"' + value.encode() + b'",' + encode(event)[1:]
    return message(sequence, event, data)


def rows_after(path: Path, batches: Sequence[Sequence[Event]], sql: str) -> list[dict[str, Any]]:
    """The rows ``sql`` returns from a fresh ledger fed ``batches``, one batch each."""
    ledger = Ledger(path)
    try:
        for batch in batches:
            ledger.feed(*batch)
        return ledger.rows(sql)
    finally:
        ledger.close()
