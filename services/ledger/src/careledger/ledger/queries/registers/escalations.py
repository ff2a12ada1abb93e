"""Escalations: each escalation with its complaint's tracking code and, for an external
body, the deadline owed to it and the body's decision once recorded."""

import datetime as dt

from careledger.ledger.deadlines import BodyRule, Policy
from careledger.ledger.queries.register import Register

WITH_COMPLAINT = (
    "SELECT e.*, c.tracking_code FROM escalations e JOIN complaints c "
    "ON c.complaint_id = e.complaint_id AND c.subject_id = e.subject_id"
)
"""Each escalation with its tracking code. The event does not carry it; the join also
leaves out an escalation of a complaint the register does not hold, or made by another
subject than the one who filed it (intake refuses both)."""


def _literal(value: str | int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def escalations_with_body_deadlines(rules: tuple[BodyRule, ...]) -> str:
    """The escalation register: each escalation with its tracking code and, for an external
    body, the deadline owed to it (``body_deadline``) and why (``body_deadline_basis``),
    and the body's ``decision``, ``decided_at`` and ``decision_reference`` once recorded.

    The deadline is ``months`` after the local date of the complaint's final response
    (``resolved_at``), from the most specific rule for (jurisdiction, to_level) in the body
    deadlines file; NULL while there is no final response, where the rule knows no deadline,
    or where there is no rule (the basis says which). Internal levels have neither.
    """
    values = ", ".join(
        "("
        + ", ".join(
            _literal(v) for v in (r.jurisdiction, r.to_level, r.months, r.timezone, r.body, r.note)
        )
        + ")"
        for r in rules
    )
    rows = (
        "SELECT prefix, to_level, CAST(months AS INTEGER) AS months, tz, body, note "
        f"FROM (VALUES {values}) AS r(prefix, to_level, months, tz, body, note)"
        if rules
        else "SELECT NULL::VARCHAR AS prefix, NULL::VARCHAR AS to_level, NULL::INTEGER AS months,"
        " NULL::VARCHAR AS tz, NULL::VARCHAR AS body, NULL::VARCHAR AS note WHERE FALSE"
    )
    due = "CAST(CAST(timezone(r.tz, c.resolved_at) AS DATE) + to_months(r.months) AS DATE)"
    return (
        f"WITH rules AS ({rows}), held AS ({WITH_COMPLAINT}), "
        "ruled AS (SELECT e.event_id, r.* FROM held e "
        "JOIN complaints c ON c.complaint_id = e.complaint_id "
        "JOIN rules r ON r.to_level = e.to_level "
        "AND (c.jurisdiction = r.prefix OR starts_with(c.jurisdiction, r.prefix || '-')) "
        "QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY length(r.prefix) DESC) = 1) "
        "SELECT e.*, "
        f"CASE WHEN e.external AND r.months IS NOT NULL THEN {due} END AS body_deadline, "
        "CASE WHEN NOT e.external THEN NULL "
        "WHEN r.event_id IS NULL THEN 'no rule for ' || c.jurisdiction || ' / ' || e.to_level "
        "|| ' in the body deadlines file' "
        "WHEN r.months IS NULL THEN r.body || ': ' || r.note "
        "WHEN c.resolved_at IS NULL THEN r.body || ': ' || r.months "
        "|| ' months after the final response, not given yet' "
        "ELSE r.body || ': ' || r.months || ' months after the final response of ' "
        "|| CAST(timezone(r.tz, c.resolved_at) AS DATE) END AS body_deadline_basis "
        ", d.decision, d.decided_at, d.external_reference AS decision_reference "
        "FROM held e JOIN complaints c ON c.complaint_id = e.complaint_id "
        "LEFT JOIN ruled r ON r.event_id = e.event_id "
        "LEFT JOIN escalation_decisions d ON d.complaint_id = e.complaint_id "
        "AND d.level = e.to_level AND d.subject_id = e.subject_id"
    )


def with_body_deadlines(policy: Policy, now: dt.datetime) -> str:
    return escalations_with_body_deadlines(policy.body_rules)


REGISTER = Register(
    "escalations",
    reads=("escalations", "escalation_decisions", "complaints"),
    filters=("complaint_id", "subject_id", "to_level", "initiated_by", "decision"),
    order=("escalated_at", "event_id"),
    source=with_body_deadlines,
)
