"""Erasure (GDPR Art. 17) and the policy after it: only kept records go on, without data."""

from careledger.contracts.commands import (
    AcknowledgeComplaint,
    CloseContact,
    Command,
    EraseSubject,
    EscalateComplaint,
    ResolveComplaint,
)
from careledger.contracts.events import Event, SubjectErased
from careledger.intake.domain.decision import Context, envelope, reject, require_filled
from careledger.intake.domain.subject import SubjectState

# Kept under Art. 17(3)(b)/(e): the lifecycle of what was already filed or opened.
ALLOWED_AFTER_ERASURE = (AcknowledgeComplaint, EscalateComplaint, ResolveComplaint, CloseContact)


def erase_subject(command: EraseSubject, subject: SubjectState, ctx: Context) -> Event:
    """Erasure itself; whether it is still allowed is ``require_allowed_for``'s call."""
    require_filled("$.legal_basis", command.legal_basis, "the legal basis of the erasure")
    return SubjectErased(
        **envelope(command, ctx),
        legal_basis=command.legal_basis,
        retained=list(command.retained),
    )


def require_allowed_for(command: Command, subject: SubjectState) -> None:
    """The erasure policy: after erasure only the lifecycle of kept records, without data."""
    if not subject.erased:
        return
    erased = f"data subject {command.subject_id} was erased (GDPR Art. 17)"
    if isinstance(command, EraseSubject):
        reject("$.subject_id", "subject_erased", f"{erased} already", status=409)
    if not isinstance(command, ALLOWED_AFTER_ERASURE):
        reject(
            "$.subject_id",
            "subject_erased",
            f"{erased}: no new contact, consent or complaint is recorded for them; only "
            "complaints already filed may still be acknowledged, escalated or resolved and "
            "contacts closed (records kept under Art. 17(3)(b) and (e))",
        )
    personal = getattr(command, "personal", None)
    if personal is not None and not personal.is_empty():
        reject(
            "$.personal",
            "subject_erased",
            f"{erased}: records kept after erasure may not carry personal data; omit personal",
        )
