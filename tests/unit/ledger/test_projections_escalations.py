"""The escalation register: every step up, internal or to an external body, with its reference."""

from pathlib import Path
from typing import Any

from careledger.contracts import Actor
from careledger.ledger.queries.registers.escalations import WITH_COMPLAINT
from tests.unit.ledger.events import (
    COMPLAINT,
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    complaint_escalated,
    complaint_filed,
    complaint_resolved,
    recorded,
    rows_after,
)

DAY = 24 * 60
FILED = complaint_filed(at(0))
TO_SUPERVISOR = complaint_escalated(
    at(DAY),
    actor=Actor(kind="agent", id="agent-7"),
    from_level="frontline",
    to_level="supervisor",
    body_name=None,
    external_reference=None,
    initiated_by="staff",
    reason_code="needs_authority",
)
RESOLVED = complaint_resolved(at(2 * DAY))
TO_CONSUMER_OFFICE = complaint_escalated(
    at(9 * DAY),
    from_level="supervisor",
    to_level="consumer_office",
    body_name="OMIC Sevilla",
    external_reference="OMIC-SE-2026-000123",
    initiated_by="customer",
    reason_code="disagrees_with_outcome",
)
STORY = [FILED, TO_SUPERVISOR, RESOLVED, TO_CONSUMER_OFFICE]
SQL = "SELECT * FROM escalations ORDER BY event_id"
REGISTER = f"SELECT * FROM ({WITH_COMPLAINT}) ORDER BY escalated_at, event_id"


def escalations(ledger: Ledger) -> list[dict[str, Any]]:
    return ledger.table("escalations", "escalated_at")


def test_each_escalation_is_one_row_saying_whether_it_left_the_company(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    assert escalations(ledger) == [
        {
            "event_id": TO_SUPERVISOR.event_id,
            "complaint_id": COMPLAINT,
            "subject_id": SUBJECT,
            "from_level": "frontline",
            "to_level": "supervisor",
            "external": False,
            "body_name": None,
            "external_reference": None,
            "initiated_by": "staff",
            "reason_code": "needs_authority",
            "escalated_at": at(DAY),
            "recorded_at": recorded(at(DAY)),
            "event_ids": [TO_SUPERVISOR.event_id],
        },
        {
            "event_id": TO_CONSUMER_OFFICE.event_id,
            "complaint_id": COMPLAINT,
            "subject_id": SUBJECT,
            "from_level": "supervisor",
            "to_level": "consumer_office",
            "external": True,
            "body_name": "OMIC Sevilla",
            "external_reference": "OMIC-SE-2026-000123",
            "initiated_by": "customer",
            "reason_code": "disagrees_with_outcome",
            "escalated_at": at(9 * DAY),
            "recorded_at": recorded(at(9 * DAY)),
            "event_ids": [TO_CONSUMER_OFFICE.event_id],
        },
    ]


def test_the_register_joins_the_complaint_for_its_tracking_code(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    register = ledger.rows(REGISTER)
    assert [(r["to_level"], r["tracking_code"]) for r in register] == [
        ("supervisor", "CL-7K2M-Q9XR-4T1B"),
        ("consumer_office", "CL-7K2M-Q9XR-4T1B"),
    ]


def test_escalations_of_an_unknown_complaint_or_by_another_subject_stay_out_of_the_register(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    before = ledger.rows(REGISTER)
    ledger.feed(
        complaint_escalated(at(10 * DAY), complaint_id=an_id("never-filed")),
        complaint_escalated(at(11 * DAY), subject_id=OTHER_SUBJECT),
    )
    assert ledger.rows(REGISTER) == before
    # the never-filed one is dead-lettered; the other subject's stays in the table
    assert len(escalations(ledger)) == 4 - 1
    assert ledger.rows("SELECT rule FROM rejected") == [{"rule": "unknown_reference"}]


def test_the_story_cut_into_two_batches_anywhere_gives_the_same_rows(tmp_path: Path) -> None:
    whole = rows_after(tmp_path / "whole.duckdb", [STORY], REGISTER)
    for cut in range(1, len(STORY)):
        halves = [STORY[:cut], STORY[cut:]]
        assert rows_after(tmp_path / f"cut-{cut}.duckdb", halves, REGISTER) == whole


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    batch = ledger.feed(*STORY)
    before = ledger.rows(SQL)
    ledger.deliver(batch)
    ledger.feed(TO_CONSUMER_OFFICE)  # the same event again, at a new stream sequence
    assert ledger.rows(SQL) == before


def test_a_rebuild_in_one_batch_equals_applying_one_event_per_batch(tmp_path: Path) -> None:
    one_by_one = rows_after(tmp_path / "live.duckdb", [[e] for e in STORY], SQL)
    assert rows_after(tmp_path / "rebuilt.duckdb", [STORY], SQL) == one_by_one
