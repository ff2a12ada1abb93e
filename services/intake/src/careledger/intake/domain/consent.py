"""Consent: given by a clear affirmative act and documented, withdrawn purpose by purpose."""

from careledger.contracts.commands import GiveConsent, WithdrawConsent
from careledger.contracts.events import ConsentGiven, ConsentWithdrawn, Event
from careledger.contracts.vocabulary import AffirmativeMechanism, ConsentMechanism
from careledger.intake.domain.contact import ContactState, require_contact_of_subject
from careledger.intake.domain.decision import Context, envelope, reject, require_filled
from careledger.intake.domain.subject import SubjectState

AFFIRMATIVE = "unticked_opt_in_box, keypress, verbal, signature or double_opt_in_confirmed"
WHY_NOT_CONSENT = {
    "pre_ticked_box": "a pre-ticked box is not consent: the data subject must tick it themself",
    "silence": "silence is not consent: the data subject must say or do something to agree",
    "inactivity": "inactivity is not consent: not objecting or carrying on using a service "
    "does not signal agreement",
}


def give_consent(
    command: GiveConsent, subject: SubjectState, contact: ContactState, ctx: Context
) -> Event:
    mechanism = affirmative(command.mechanism)
    require_filled("$.controller", command.controller, "the controller's legal name")
    if not command.purposes:
        reject("$.purposes", "required", "name at least one purpose the consent is given for")
    for i, purpose in enumerate(command.purposes):
        require_filled(f"$.purposes[{i}]", purpose, "each purpose")
    require_filled("$.notice.version", command.notice.version, "the version of the notice shown")
    require_filled(
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
