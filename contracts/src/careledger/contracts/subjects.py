"""Stream, subject and bucket names: the addresses of CareLedger on NATS."""

from careledger.contracts.commands import Command
from careledger.contracts.events import ComplaintEvent, ContactEvent, Event, SubjectEvent

EVENT_STREAM = "CARELEDGER_EVENTS"
EVENT_SUBJECTS = "careledger.events.>"
DLQ_STREAM = "CARELEDGER_DLQ"
DLQ_SUBJECTS = "careledger.dlq.>"
VAULT_BUCKET = "careledger_vault"
COMMAND_PREFIX = "careledger.intake"
AGGREGATES = tuple(family.aggregate for family in (ContactEvent, ComplaintEvent, SubjectEvent))

# Headers
MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"
EVENT_TYPE = "CareLedger-Event-Type"
IDEMPOTENCY_KEY = "Idempotency-Key"


def aggregate_subject(aggregate: str, aggregate_id: str) -> str:
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}; expected one of {AGGREGATES}")
    return f"careledger.events.{aggregate}.{aggregate_id}"


def event_subject(event: Event) -> str:
    return aggregate_subject(event.aggregate, event.aggregate_id)


def command_subject(command: type[Command] | str) -> str:
    name = command if isinstance(command, str) else command.name
    return f"{COMMAND_PREFIX}.{name}"
