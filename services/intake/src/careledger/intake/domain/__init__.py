"""Intake's pure domain: ``decide(command, facts, ctx) -> events`` and ``evolve``.

Imports only the standard library and the contracts. The application loads the facts
(the folded history of each aggregate a command touches) and appends what is decided.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from careledger.contracts.commands import (
    AcknowledgeComplaint,
    CloseContact,
    Command,
    EraseSubject,
    EscalateComplaint,
    ExtendComplaintDeadline,
    FileComplaint,
    GiveConsent,
    OpenContact,
    RecordEscalationDecision,
    ResolveComplaint,
    WithdrawConsent,
)
from careledger.contracts.events import Event
from careledger.intake.domain import (
    acknowledgement,
    body_decision,
    complaint,
    consent,
    contact,
    erasure,
    escalation,
    extension,
    resolution,
    subject,
)
from careledger.intake.domain.complaint import ComplaintState
from careledger.intake.domain.contact import ContactState
from careledger.intake.domain.decision import Context, Rejected, require_not_in_future
from careledger.intake.domain.subject import SubjectState

__all__ = ["Context", "Facts", "Rejected", "addresses", "decide", "fold"]


@dataclass(frozen=True)
class Facts:
    """What intake knows, from the log, about the aggregates one command touches."""

    contact: ContactState = field(default_factory=ContactState)
    complaint: ComplaintState = field(default_factory=ComplaintState)
    subject: SubjectState = field(default_factory=SubjectState)


def addresses(command: Command, new_id: str) -> dict[str, str]:
    """Which aggregates (name -> id) to load before deciding ``command``."""
    loads = {"subject": command.subject_id}
    contact_id = getattr(command, "contact_id", None)
    if isinstance(command, OpenContact):
        contact_id = contact_id or new_id
    if contact_id:
        loads["contact"] = contact_id
    complaint_id = getattr(command, "complaint_id", None)
    if isinstance(command, FileComplaint):
        complaint_id = complaint_id or new_id
    if complaint_id:
        loads["complaint"] = complaint_id
    return loads


def fold(history: Iterable[Event]) -> Facts:
    """Fold the events of the loaded aggregates (any order across aggregates) into Facts."""
    facts = Facts()
    for event in history:
        match event.aggregate:
            case "contact":
                facts = replace(facts, contact=contact.evolve(facts.contact, event))
            case "complaint":
                facts = replace(facts, complaint=complaint.evolve(facts.complaint, event))
            case "subject":
                facts = replace(facts, subject=subject.evolve(facts.subject, event))
    return facts


def decide(command: Command, facts: Facts, ctx: Context) -> list[Event]:
    require_not_in_future(command, ctx)
    erasure.require_allowed_for(command, facts.subject)
    match command:
        case OpenContact():
            return [contact.open_contact(command, facts.contact, ctx)]
        case CloseContact():
            return [contact.close_contact(command, facts.contact, ctx)]
        case GiveConsent():
            return [consent.give_consent(command, facts.subject, facts.contact, ctx)]
        case WithdrawConsent():
            return [consent.withdraw_consent(command, facts.subject, facts.contact, ctx)]
        case EraseSubject():
            return [erasure.erase_subject(command, facts.subject, ctx)]
        case FileComplaint():
            return [complaint.file_complaint(command, facts.complaint, facts.contact, ctx)]
        case AcknowledgeComplaint():
            return [acknowledgement.acknowledge_complaint(command, facts.complaint, ctx)]
        case EscalateComplaint():
            return [escalation.escalate_complaint(command, facts.complaint, ctx)]
        case ResolveComplaint():
            return [resolution.resolve_complaint(command, facts.complaint, ctx)]
        case ExtendComplaintDeadline():
            return [extension.extend_complaint_deadline(command, facts.complaint, ctx)]
        case RecordEscalationDecision():
            return [body_decision.record_escalation_decision(command, facts.complaint, ctx)]
    raise Rejected()  # pragma: no cover - every command type is matched above
