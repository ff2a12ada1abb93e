"""Escalating a complaint: levels only go up; staff go internal before external.

A customer may take a complaint to an external body at any time, even after it was
resolved (docs/decisions.md, Escalation).
"""

from careledger.contracts.commands import EscalateComplaint
from careledger.contracts.events import ComplaintEscalated, Event
from careledger.contracts.vocabulary import ESCALATION_ORDER, INTERNAL_LEVELS
from careledger.intake.domain.complaint import (
    ComplaintState,
    require_complaint_of_subject,
    require_open_complaint_of_subject,
)
from careledger.intake.domain.decision import Context, envelope, reject


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
