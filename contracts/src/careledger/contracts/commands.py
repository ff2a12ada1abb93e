"""Commands: imperative requests to intake. Intake decides whether they become events.

Commands are strict, like events: unknown fields are refused at every depth, so a misspelt
optional field is an error rather than silently dropped. Ids a command
creates (contact, consent, complaint) are optional: intake derives them from the
caller's idempotency key when absent.
"""

import datetime as dt
from typing import ClassVar, get_args

import msgspec

from careledger.contracts._parts import Actor, Evidence, Notice, PersonalData, Redress
from careledger.contracts.events import Purposes, Regimes, RetainedRecords
from careledger.contracts.vocabulary import (
    BodyDecision,
    BodyName,
    CaseKind,
    Channel,
    Code,
    ConsentMechanism,
    ContactMode,
    ContactOutcome,
    ControllerName,
    Direction,
    EscalationLevel,
    ExternalReference,
    Initiator,
    Instant,
    Jurisdiction,
    LawfulBasis,
    OpaqueId,
    ResolutionOutcome,
    SocialNetwork,
    TextVersion,
)


class Command(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True
):
    """What every command carries. ``name`` is its kebab-case name in subjects and routes."""

    name: ClassVar[str]

    subject_id: OpaqueId
    occurred_at: Instant
    actor: Actor
    client_id: Code
    correlation_id: OpaqueId | None = None


class OpenContact(Command, frozen=True, kw_only=True, tag="OpenContact"):
    name: ClassVar[str] = "open-contact"
    contact_id: OpaqueId | None = None
    channel: Channel
    network: SocialNetwork | None = None
    direction: Direction
    mode: ContactMode = "direct"
    agent: Code | None = None
    personal: PersonalData | None = None


class CloseContact(Command, frozen=True, kw_only=True, tag="CloseContact"):
    name: ClassVar[str] = "close-contact"
    contact_id: OpaqueId
    outcome: ContactOutcome


class GiveConsent(Command, frozen=True, kw_only=True, tag="GiveConsent"):
    name: ClassVar[str] = "give-consent"
    consent_id: OpaqueId | None = None
    controller: ControllerName
    purposes: Purposes
    lawful_basis: LawfulBasis | None = None
    mechanism: ConsentMechanism
    notice: Notice
    evidence: Evidence
    channel: Channel
    contact_id: OpaqueId | None = None
    personal: PersonalData | None = None


class WithdrawConsent(Command, frozen=True, kw_only=True, tag="WithdrawConsent"):
    name: ClassVar[str] = "withdraw-consent"
    consent_id: OpaqueId
    purposes: Purposes | None = None
    channel: Channel
    contact_id: OpaqueId | None = None


class FileComplaint(Command, frozen=True, kw_only=True, tag="FileComplaint"):
    name: ClassVar[str] = "file-complaint"
    complaint_id: OpaqueId | None = None
    contact_id: OpaqueId
    kind: CaseKind
    product: Code
    cause: Code
    channel: Channel
    jurisdiction: Jurisdiction
    sector: Code
    vulnerable: bool = False
    regimes: Regimes = msgspec.field(default_factory=list)
    personal: PersonalData | None = None


class AcknowledgeComplaint(Command, frozen=True, kw_only=True, tag="AcknowledgeComplaint"):
    name: ClassVar[str] = "acknowledge-complaint"
    complaint_id: OpaqueId
    deadline_communicated: dt.date | None = None


class EscalateComplaint(Command, frozen=True, kw_only=True, tag="EscalateComplaint"):
    name: ClassVar[str] = "escalate-complaint"
    complaint_id: OpaqueId
    to_level: EscalationLevel
    body_name: BodyName | None = None
    external_reference: ExternalReference | None = None
    initiated_by: Initiator
    reason_code: Code
    personal: PersonalData | None = None


class ResolveComplaint(Command, frozen=True, kw_only=True, tag="ResolveComplaint"):
    name: ClassVar[str] = "resolve-complaint"
    complaint_id: OpaqueId
    outcome: ResolutionOutcome
    redress: Redress | None = None
    escalation_rights_communicated: bool
    escalation_rights_text_version: TextVersion | None = None
    personal: PersonalData | None = None


class ExtendComplaintDeadline(Command, frozen=True, kw_only=True, tag="ExtendComplaintDeadline"):
    """Record that the customer was told the answer takes longer, why, and by when."""

    name: ClassVar[str] = "extend-complaint-deadline"
    complaint_id: OpaqueId
    reason_code: Code
    new_deadline: dt.date


class RecordEscalationDecision(Command, frozen=True, kw_only=True, tag="RecordEscalationDecision"):
    """Record what the external body at ``level`` decided on the complaint."""

    name: ClassVar[str] = "record-escalation-decision"
    complaint_id: OpaqueId
    level: EscalationLevel
    decision: BodyDecision
    external_reference: ExternalReference | None = None


class EraseSubject(Command, frozen=True, kw_only=True, tag="EraseSubject"):
    name: ClassVar[str] = "erase-subject"
    legal_basis: Code
    retained: RetainedRecords = msgspec.field(default_factory=list)


AnyCommand = (
    OpenContact
    | CloseContact
    | GiveConsent
    | WithdrawConsent
    | FileComplaint
    | AcknowledgeComplaint
    | EscalateComplaint
    | ResolveComplaint
    | ExtendComplaintDeadline
    | RecordEscalationDecision
    | EraseSubject
)
# In AnyCommand's order, which the schema index, the AsyncAPI and OpenAPI documents keep.
COMMAND_TYPES: tuple[type[Command], ...] = get_args(AnyCommand)
COMMANDS_BY_NAME: dict[str, type[Command]] = {c.name: c for c in COMMAND_TYPES}
# Privacy commands: a client or a NATS user may send them only when granted by name.
PRIVACY_COMMANDS = frozenset({EraseSubject.name})
