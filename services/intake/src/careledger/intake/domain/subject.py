"""The data-subject aggregate: consents given and withdrawn, and erasure (GDPR Art. 17)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from careledger.contracts._vocabulary import AffirmativeMechanism, ConsentMechanism
from careledger.contracts.commands import (
    AcknowledgeComplaint,
    CloseContact,
    Command,
    EraseSubject,
    EscalateComplaint,
    GiveConsent,
    ResolveComplaint,
    WithdrawConsent,
)
from careledger.contracts.events import ConsentGiven, ConsentWithdrawn, Event, SubjectErased
from careledger.intake.domain.contact import ContactState, require_contact_of_subject
from careledger.intake.domain.decision import Context, envelope, reject

AFFIRMATIVE = "unticked_opt_in_box, keypress, verbal, signature or double_opt_in_confirmed"
WHY_NOT_CONSENT = {
    "pre_ticked_box": "a pre-ticked box is not consent: the data subject must tick it themself",
    "silence": "silence is not consent: the data subject must say or do something to agree",
    "inactivity": "inactivity is not consent: not objecting or carrying on using a service "
    "does not signal agreement",
}
# Kept under Art. 17(3)(b)/(e): the lifecycle of what was already filed or opened.
ALLOWED_AFTER_ERASURE = (AcknowledgeComplaint, EscalateComplaint, ResolveComplaint, CloseContact)


@dataclass(frozen=True)
class ConsentState:
    purposes: tuple[str, ...]
    active: tuple[str, ...]


@dataclass(frozen=True)
class SubjectState:
    erased: bool = False
    consents: Mapping[str, ConsentState] = field(default_factory=dict)


def evolve(state: SubjectState, event: Event) -> SubjectState:
    match event:
        case ConsentGiven():
            purposes = tuple(dict.fromkeys(event.purposes))
            consent = ConsentState(purposes=purposes, active=purposes)
            return replace(state, consents={**state.consents, event.consent_id: consent})
        case ConsentWithdrawn() if event.consent_id in state.consents:
            given = state.consents[event.consent_id]
            active = tuple(p for p in given.active if p not in event.purposes)
            consent = replace(given, active=active)
            return replace(state, consents={**state.consents, event.consent_id: consent})
        case SubjectErased():
            return replace(state, erased=True)
    return state


def give_consent(
    command: GiveConsent, subject: SubjectState, contact: ContactState, ctx: Context
) -> Event:
    mechanism = affirmative(command.mechanism)
    _require_filled("$.controller", command.controller, "the controller's legal name")
    if not command.purposes:
        reject("$.purposes", "required", "name at least one purpose the consent is given for")
    for i, purpose in enumerate(command.purposes):
        _require_filled(f"$.purposes[{i}]", purpose, "each purpose")
    _require_filled("$.notice.version", command.notice.version, "the version of the notice shown")
    _require_filled(
        "$.evidence.reference", command.evidence.reference, "the reference to the evidence"
    )
    if "call_recording" in command.purposes and command.lawful_basis is None:
        reject(
            "$.lawful_basis",
            "required_for_call_recording",
            "consent to call recording must state the lawful basis of the recording "
            "(e.g. 'consent' or 'legal_obligation')",
        )
    if command.consent_id in subject.consents:
        reject(
            "$.consent_id", "unique", f"consent {command.consent_id} was already given", status=409
        )
    if command.contact_id is not None:
        require_contact_of_subject("$.contact_id", command.contact_id, command.subject_id, contact)
    return ConsentGiven(
        **envelope(command, ctx, command.channel),
        consent_id=command.consent_id or ctx.new_id,
        controller=command.controller,
        purposes=list(command.purposes),
        lawful_basis=command.lawful_basis,
        mechanism=mechanism,
        notice=command.notice,
        evidence=command.evidence,
        channel=command.channel,
        contact_id=command.contact_id,
    )


def affirmative(mechanism: ConsentMechanism) -> AffirmativeMechanism:
    """Consent is a clear affirmative act (GDPR Art. 4(11), Art. 7, Recital 32)."""
    match mechanism:
        case "pre_ticked_box" | "silence" | "inactivity":
            reject(
                "$.mechanism",
                "affirmative_act",
                f"{WHY_NOT_CONSENT[mechanism]} (GDPR Art. 4(11), Art. 7 and Recital 32: "
                f"silence, pre-ticked boxes or inactivity do not constitute consent); "
                f"accepted: {AFFIRMATIVE}",
            )
        case _:
            return mechanism


def withdraw_consent(
    command: WithdrawConsent, subject: SubjectState, contact: ContactState, ctx: Context
) -> Event:
    consent_id = command.consent_id
    given = subject.consents.get(consent_id)
    if given is None:
        reject(
            "$.consent_id",
            "given",
            f"consent {consent_id} was never given by this data subject: name a consent they gave",
        )
    if not given.active:
        reject(
            "$.consent_id",
            "not_withdrawn",
            f"consent {consent_id} is already withdrawn for all its purposes",
            status=409,
        )
    for purpose in command.purposes or ():
        if purpose not in given.active:
            withdrawn = purpose in given.purposes
            reject(
                "$.purposes",
                "active_purpose",
                f"purpose '{purpose}' of consent {consent_id} "
                + ("was already withdrawn" if withdrawn else "was never given")
                + f"; still active: {', '.join(given.active)}",
                status=409 if withdrawn else 422,
            )
    if command.contact_id is not None:
        require_contact_of_subject("$.contact_id", command.contact_id, command.subject_id, contact)
    return ConsentWithdrawn(
        **envelope(command, ctx, command.channel),
        consent_id=consent_id,
        purposes=list(dict.fromkeys(command.purposes or given.active)),
        channel=command.channel,
        contact_id=command.contact_id,
    )


def erase_subject(command: EraseSubject, subject: SubjectState, ctx: Context) -> Event:
    """Erasure itself; whether it is still allowed is ``require_allowed_for``'s call."""
    _require_filled("$.legal_basis", command.legal_basis, "the legal basis of the erasure")
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


def _require_filled(field: str, value: str, what: str) -> None:
    if not value.strip():
        reject(field, "required", f"{what} is required and may not be blank")
