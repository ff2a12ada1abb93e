"""Resolving a complaint: once, with redress only when upheld, naming the rights text."""

from decimal import Decimal

from careledger.contracts.commands import ResolveComplaint
from careledger.contracts.events import ComplaintResolved, Event
from careledger.intake.domain.complaint import ComplaintState, require_open_complaint_of_subject
from careledger.intake.domain.decision import Context, envelope, reject


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
