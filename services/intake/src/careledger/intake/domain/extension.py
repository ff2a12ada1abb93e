"""Extending a complaint's deadline: telling the customer, with the reason, that the answer
takes longer and by when it will come (GDPR Art. 12(3) extension notice, PSD2 / DISP holding
reply, Ley 1755/2015 art. 14). Once, before resolution; whether it was in time and within
the regime's maximum is the ledger's to judge per regime, not intake's."""

from careledger.contracts.commands import ExtendComplaintDeadline
from careledger.contracts.events import ComplaintDeadlineExtended, Event
from careledger.intake.domain.complaint import ComplaintState, require_open_complaint_of_subject
from careledger.intake.domain.decision import Context, envelope, reject
from careledger.intake.domain.ids import tracking_code_for


def extend_complaint_deadline(
    command: ExtendComplaintDeadline, complaint: ComplaintState, ctx: Context
) -> Event:
    require_open_complaint_of_subject(command, complaint, "its deadline can no longer move")
    if complaint.extended:
        reject(
            "$.complaint_id",
            "extend_once",
            f"complaint {command.complaint_id} was already extended: the rules allow one "
            "extension notice (or holding reply) per complaint",
            status=409,
        )
    told_on = command.occurred_at.astimezone(ctx.now.tzinfo).date()
    if command.new_deadline < told_on:
        reject(
            "$.new_deadline",
            "after_notice",
            f"new_deadline {command.new_deadline} is before {told_on}, the day the customer "
            "was told (occurred_at, in UTC): an extension gives a later date",
        )
    return ComplaintDeadlineExtended(
        **envelope(command, ctx, complaint.channel),
        complaint_id=command.complaint_id,
        tracking_code=tracking_code_for(command.complaint_id),
        reason_code=command.reason_code,
        new_deadline=command.new_deadline,
    )
