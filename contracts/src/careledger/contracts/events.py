"""Events: past-tense facts, the only thing the log holds.

Events are strict, like commands: an unknown field is refused at every depth, so nothing
unnamed (an e-mail address, say) enters the permanent log. Free text is a label (see
``vocabulary``), never personal data. Evolution rules: a field is added only with a default
and a new ``schema_version``, and readers learn it before any publisher sends it; never
rename or retype a field; a breaking change is a new event type or a new ``schema_version``.
"""

import datetime as dt
from typing import Annotated, ClassVar, get_args

import msgspec

from careledger.contracts._parts import (
    Actor,
    Evidence,
    Notice,
    PersonalRef,
    Redress,
    Retention,
    Source,
)
from careledger.contracts.vocabulary import (
    AffirmativeMechanism,
    BodyDecision,
    BodyName,
    CaseKind,
    Channel,
    Code,
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

Purposes = Annotated[list[Code], msgspec.Meta(min_length=1, max_length=32)]
Regimes = Annotated[list[Code], msgspec.Meta(max_length=16)]
RetainedRecords = Annotated[list[Retention], msgspec.Meta(max_length=32)]
TrackingCode = Annotated[
    str, msgspec.Meta(pattern=r"^CL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}(?!\n)$")
]


class Event(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True
):
    """The envelope every event carries. ``aggregate`` names the stream subject family."""

    aggregate: ClassVar[str]

    event_id: OpaqueId
    schema_version: Annotated[int, msgspec.Meta(ge=1)] = 1
    occurred_at: Instant
    recorded_at: Instant
    subject_id: OpaqueId
    actor: Actor
    source: Source
    correlation_id: OpaqueId
    causation_id: OpaqueId | None = None
    personal: PersonalRef | None = None

    @property
    def aggregate_id(self) -> str:
        raise NotImplementedError


class ContactEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "contact"
    contact_id: OpaqueId

    @property
    def aggregate_id(self) -> str:
        return self.contact_id


class ComplaintEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "complaint"
    complaint_id: OpaqueId

    @property
    def aggregate_id(self) -> str:
        return self.complaint_id


class SubjectEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "subject"

    @property
    def aggregate_id(self) -> str:
        return self.subject_id


class ContactOpened(ContactEvent, frozen=True, kw_only=True, tag="ContactOpened"):
    channel: Channel
    network: SocialNetwork | None = None
    direction: Direction
    mode: ContactMode = "direct"
    agent: Code | None = None


class ContactClosed(ContactEvent, frozen=True, kw_only=True, tag="ContactClosed"):
    outcome: ContactOutcome


class ConsentGiven(SubjectEvent, frozen=True, kw_only=True, tag="ConsentGiven"):
    consent_id: OpaqueId
    controller: ControllerName
    purposes: Purposes
    lawful_basis: LawfulBasis | None = None
    mechanism: AffirmativeMechanism
    notice: Notice
    evidence: Evidence
    channel: Channel
    contact_id: OpaqueId | None = None


class ConsentWithdrawn(SubjectEvent, frozen=True, kw_only=True, tag="ConsentWithdrawn"):
    consent_id: OpaqueId
    purposes: Purposes
    channel: Channel
    contact_id: OpaqueId | None = None


class ComplaintFiled(ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintFiled"):
    tracking_code: TrackingCode
    contact_id: OpaqueId
    kind: CaseKind
    product: Code
    cause: Code
    channel: Channel
    jurisdiction: Jurisdiction
    sector: Code
    vulnerable: bool = False
    regimes: Regimes = msgspec.field(default_factory=list)


class ComplaintAcknowledged(ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintAcknowledged"):
    tracking_code: TrackingCode
    deadline_communicated: dt.date | None = None


class ComplaintEscalated(ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintEscalated"):
    from_level: EscalationLevel
    to_level: EscalationLevel
    body_name: BodyName | None = None
    external_reference: ExternalReference | None = None
    initiated_by: Initiator
    reason_code: Code


class ComplaintResolved(ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintResolved"):
    outcome: ResolutionOutcome
    redress: Redress | None = None
    escalation_rights_communicated: bool
    escalation_rights_text_version: TextVersion | None = None


class ComplaintDeadlineExtended(
    ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintDeadlineExtended"
):
    """The customer was told, with the reason, that the answer takes longer and by when it
    will come: GDPR Art. 12(3) extension notice, PSD2 / DISP holding reply, Ley 1755/2015
    art. 14 notice. Its ``occurred_at`` is when the customer was told."""

    tracking_code: TrackingCode
    reason_code: Code
    new_deadline: dt.date


class ComplaintEscalationDecided(
    ComplaintEvent, frozen=True, kw_only=True, tag="ComplaintEscalationDecided"
):
    """The external body a complaint was escalated to decided; ``occurred_at`` is the date
    of its decision."""

    level: EscalationLevel
    decision: BodyDecision
    external_reference: ExternalReference | None = None


class SubjectErased(SubjectEvent, frozen=True, kw_only=True, tag="SubjectErased"):
    legal_basis: Code
    retained: RetainedRecords = msgspec.field(default_factory=list)


AnyEvent = (
    ContactOpened
    | ContactClosed
    | ConsentGiven
    | ConsentWithdrawn
    | ComplaintFiled
    | ComplaintAcknowledged
    | ComplaintEscalated
    | ComplaintResolved
    | ComplaintDeadlineExtended
    | ComplaintEscalationDecided
    | SubjectErased
)
# In AnyEvent's order, which the schema index and the AsyncAPI documents keep.
EVENT_TYPES: tuple[type[Event], ...] = get_args(AnyEvent)
