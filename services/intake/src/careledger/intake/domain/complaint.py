"""The complaint aggregate: filed on a contact, acknowledged, escalated, resolved."""

from dataclasses import dataclass, replace
from decimal import Decimal

from careledger.contracts._vocabulary import (
    ESCALATION_ORDER,
    INTERNAL_LEVELS,
    EscalationLevel,
    ResolutionOutcome,
)
from careledger.contracts.commands import (
    AcknowledgeComplaint,
    EscalateComplaint,
    FileComplaint,
    ResolveComplaint,
)
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintResolved,
    Event,
)
from careledger.intake.domain.contact import ContactState, require_contact_of_subject
from careledger.intake.domain.decision import Context, envelope, reject
from careledger.intake.domain.ids import tracking_code_for


@dataclass(frozen=True)
class ComplaintState:
    complaint_id: str | None = None
    subject_id: str | None = None
    contact_id: str | None = None
    tracking_code: str | None = None
    channel: str | None = None
    level: EscalationLevel = "frontline"
    escalated_internally: bool = False
    acknowledged: bool = False
    outcome: ResolutionOutcome | None = None

    @property
    def exists(self) -> bool:
        return self.complaint_id is not None


def evolve(state: ComplaintState, event: Event) -> ComplaintState:
    match event:
        case ComplaintFiled():
            return ComplaintState(
                complaint_id=event.complaint_id,
                subject_id=event.subject_id,
                contact_id=event.contact_id,
                tracking_code=event.tracking_code,
                channel=event.channel,
            )
        case ComplaintAcknowledged():
            return replace(state, acknowledged=True)
        case ComplaintEscalated():
            internal = state.escalated_internally or event.to_level in INTERNAL_LEVELS
            return replace(state, level=event.to_level, escalated_internally=internal)
        case ComplaintResolved():
            return replace(state, outcome=event.outcome)
    return state


def file_complaint(
    command: FileComplaint, complaint: ComplaintState, contact: ContactState, ctx: Context
) -> Event:
    if complaint.exists:
        reject(
            "$.complaint_id",
            "unique",
            f"complaint {complaint.complaint_id} is already filed; use a new complaint_id (or "
            "omit it and intake derives one from the Idempotency-Key)",
            status=409,
        )
    require_contact_of_subject("$.contact_id", command.contact_id, command.subject_id, contact)
    complaint_id = command.complaint_id or ctx.new_id
    return ComplaintFiled(
        **envelope(command, ctx, command.channel),
        complaint_id=complaint_id,
        tracking_code=tracking_code_for(complaint_id),
        contact_id=command.contact_id,
        kind=command.kind,
        product=command.product,
        cause=command.cause,
        channel=command.channel,
        jurisdiction=command.jurisdiction,
        sector=command.sector,
        vulnerable=command.vulnerable,
        regimes=list(command.regimes),
    )


def acknowledge_complaint(
    command: AcknowledgeComplaint, complaint: ComplaintState, ctx: Context
) -> Event:
    require_open_complaint_of_subject(command, complaint, "it can no longer be acknowledged")
    if complaint.acknowledged:
        reject(
            "$.complaint_id",
            "acknowledge_once",
            f"complaint {command.complaint_id} is already acknowledged",
            status=409,
        )
    return ComplaintAcknowledged(
        **envelope(command, ctx, complaint.channel),
        complaint_id=command.complaint_id,
        tracking_code=tracking_code_for(command.complaint_id),
        deadline_communicated=command.deadline_communicated,
    )


def escalate_complaint(
    command: EscalateComplaint, complaint: ComplaintState, ctx: Context
) -> Event:
    current, wanted = complaint.level, command.to_level
    external = wanted not in INTERNAL_LEVELS
    if external:  # a customer may go to an external body at any time, even after resolution
        require_complaint_of_subject(command.complaint_id, command.subject_id, complaint)
    else:
        require_open_complaint_of_subject(command, complaint, f"it cannot go to '{wanted}'")
    if ESCALATION_ORDER.index(wanted) <= ESCALATION_ORDER.index(current):
        above = ", ".join(ESCALATION_ORDER[ESCALATION_ORDER.index(current) + 1 :]) or "none"
        reject(
            "$.to_level",
            "escalates_upward",
            f"complaint {command.complaint_id} is at level '{current}' and escalation only "
            f"goes up, so '{wanted}' is not accepted; levels above '{current}': {above}",
        )
    if external and command.initiated_by == "staff" and not complaint.escalated_internally:
        reject(
            "$.to_level",
            "internal_before_external",
            f"staff may take a complaint to '{wanted}' only after an internal escalation "
            "(supervisor or complaints_department); escalate internally first, or record "
            "initiated_by 'customer' if the customer went there themself",
        )
    if external and not (command.body_name or "").strip():
        reject(
            "$.body_name",
            "required_for_external_level",
            f"an escalation to external level '{wanted}' must name the body it went to",
        )
    return ComplaintEscalated(
        **envelope(command, ctx, complaint.channel),
        complaint_id=command.complaint_id,
        from_level=current,
        to_level=wanted,
        body_name=command.body_name,
        external_reference=command.external_reference,
        initiated_by=command.initiated_by,
        reason_code=command.reason_code,
    )


def resolve_complaint(command: ResolveComplaint, complaint: ComplaintState, ctx: Context) -> Event:
    require_open_complaint_of_subject(command, complaint, "it is resolved only once")
    redress = command.redress
    if redress and command.outcome in ("rejected", "withdrawn") and Decimal(redress.amount) > 0:
        reject(
            "$.redress",
            "redress_only_if_upheld",
            f"a complaint resolved as '{command.outcome}' cannot carry redress of "
            f"{redress.amount} {redress.currency}: an amount above 0 is only for outcomes "
            "upheld or partially_upheld; omit redress or give amount 0",
        )
    version = command.escalation_rights_text_version
    if command.escalation_rights_communicated and not (version or "").strip():
        reject(
            "$.escalation_rights_text_version",
            "required_when_rights_communicated",
            "escalation rights were communicated: name the version of the text the customer got",
        )
    return ComplaintResolved(
        **envelope(command, ctx, complaint.channel),
        complaint_id=command.complaint_id,
        outcome=command.outcome,
        redress=redress,
        escalation_rights_communicated=command.escalation_rights_communicated,
        escalation_rights_text_version=version,
    )


def require_complaint_of_subject(complaint_id: str, subject_id: str, state: ComplaintState) -> None:
    """The named complaint was filed, and by this data subject."""
    if not state.exists:
        reject(
            "$.complaint_id", "exists", f"complaint {complaint_id} was never filed: file it first"
        )
    if state.subject_id != subject_id:
        reject(
            "$.complaint_id",
            "same_subject",
            f"complaint {complaint_id} belongs to another data subject",
        )


def require_open_complaint_of_subject(
    command: AcknowledgeComplaint | EscalateComplaint | ResolveComplaint,
    state: ComplaintState,
    what: str,
) -> None:
    """The named complaint was filed by this data subject and is not resolved yet."""
    require_complaint_of_subject(command.complaint_id, command.subject_id, state)
    if state.outcome is not None:
        field = "$.to_level" if isinstance(command, EscalateComplaint) else "$.complaint_id"
        reject(
            field,
            "not_resolved",
            f"complaint {command.complaint_id} is already resolved ({state.outcome}) and "
            f"{what}; the customer may still take it to an external body",
            status=409,
        )
