"""The complaint aggregate: filed on a contact, acknowledged, extended, escalated, decided
by an external body, resolved.

Its state, the rules every later step shares, and filing live here; every later step has a
module of its own.
"""

from dataclasses import dataclass, replace

from careledger.contracts.commands import (
    AcknowledgeComplaint,
    EscalateComplaint,
    ExtendComplaintDeadline,
    FileComplaint,
    ResolveComplaint,
)
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintDeadlineExtended,
    ComplaintEscalated,
    ComplaintEscalationDecided,
    ComplaintFiled,
    ComplaintResolved,
    Event,
)
from careledger.contracts.vocabulary import INTERNAL_LEVELS, EscalationLevel, ResolutionOutcome
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
    extended: bool = False
    outcome: ResolutionOutcome | None = None
    levels_reached: frozenset[EscalationLevel] = frozenset()
    levels_decided: frozenset[EscalationLevel] = frozenset()

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
            return replace(
                state,
                level=event.to_level,
                escalated_internally=internal,
                levels_reached=state.levels_reached | {event.to_level},
            )
        case ComplaintDeadlineExtended():
            return replace(state, extended=True)
        case ComplaintEscalationDecided():
            return replace(state, levels_decided=state.levels_decided | {event.level})
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
    command: AcknowledgeComplaint | EscalateComplaint | ExtendComplaintDeadline | ResolveComplaint,
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
