"""Recording an external body's decision on an escalated complaint: once per level, only
for a level the complaint was escalated to, resolved by the company or not."""

from careledger.contracts.commands import RecordEscalationDecision
from careledger.contracts.events import ComplaintEscalationDecided, Event
from careledger.contracts.vocabulary import INTERNAL_LEVELS
from careledger.intake.domain.complaint import ComplaintState, require_complaint_of_subject
from careledger.intake.domain.decision import Context, envelope, reject


def record_escalation_decision(
    command: RecordEscalationDecision, complaint: ComplaintState, ctx: Context
) -> Event:
    require_complaint_of_subject(command.complaint_id, command.subject_id, complaint)
    level = command.level
    if level in INTERNAL_LEVELS:
        reject(
            "$.level",
            "external_level",
            f"'{level}' is an internal level: its answer is the company's own, recorded by "
            "resolving the complaint; decisions are recorded for external bodies",
        )
    if level not in complaint.levels_reached:
        reached = ", ".join(sorted(complaint.levels_reached)) or "none"
        reject(
            "$.level",
            "escalated_there",
            f"complaint {command.complaint_id} was never escalated to '{level}' (levels "
            f"reached: {reached}); record the escalation first",
        )
    if level in complaint.levels_decided:
        reject(
            "$.level",
            "decide_once",
            f"the decision of '{level}' on complaint {command.complaint_id} is already recorded",
            status=409,
        )
    return ComplaintEscalationDecided(
        **envelope(command, ctx, complaint.channel),
        complaint_id=command.complaint_id,
        level=level,
        decision=command.decision,
        external_reference=command.external_reference,
    )
