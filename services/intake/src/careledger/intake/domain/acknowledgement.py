"""Acknowledging a complaint: once, before resolution, with the customer's tracking code."""

from careledger.contracts.commands import AcknowledgeComplaint
from careledger.contracts.events import ComplaintAcknowledged, Event
from careledger.intake.domain.complaint import ComplaintState, require_open_complaint_of_subject
from careledger.intake.domain.decision import Context, envelope, reject
from careledger.intake.domain.ids import tracking_code_for


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
