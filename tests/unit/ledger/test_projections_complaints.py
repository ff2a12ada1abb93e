"""The complaints register: every complaint, its milestones, where it stands and how it ended."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from careledger.contracts import Actor, Redress
from tests.unit.ledger.events import (
    COMPLAINT,
    CONTACT,
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    complaint_acknowledged,
    complaint_escalated,
    complaint_extended,
    complaint_filed,
    complaint_resolved,
    recorded,
    rows_after,
    subject_erased,
)

DAY = 24 * 60
STAFF = Actor(kind="agent", id="agent-7")
FILED = complaint_filed(at(0), channel="phone", vulnerable=True, regimes=["uk.fca.disp"])
ACKNOWLEDGED = complaint_acknowledged(at(10), deadline_communicated=dt.date(2026, 4, 27))
ESCALATED = complaint_escalated(
    at(DAY),
    actor=STAFF,
    from_level="frontline",
    to_level="complaints_department",
    body_name=None,
    external_reference=None,
    initiated_by="staff",
    reason_code="customer_dissatisfied",
)
EXTENDED = complaint_extended(
    at(2 * DAY), reason_code="awaiting_card_scheme", new_deadline=dt.date(2026, 4, 30)
)
RESOLVED = complaint_resolved(
    at(3 * DAY),
    outcome="partially_upheld",
    redress=Redress(amount="25.5", currency="GBP", kind="compensation"),
    escalation_rights_communicated=True,
    escalation_rights_text_version="fos-leaflet-2026",
)
TO_OMBUDSMAN = complaint_escalated(
    at(20 * DAY),
    from_level="complaints_department",
    to_level="ombudsman",
    body_name="Financial Ombudsman Service",
    external_reference="FOS-2026-0042",
    initiated_by="customer",
    reason_code="disagrees_with_outcome",
)
STORY = [FILED, ACKNOWLEDGED, ESCALATED, EXTENDED, RESOLVED, TO_OMBUDSMAN]
SQL = "SELECT * FROM complaints ORDER BY complaint_id"


def complaints(ledger: Ledger) -> list[dict[str, Any]]:
    return ledger.table("complaints", "complaint_id")


def test_the_complaints_story_ends_in_one_row_with_every_milestone_and_its_lineage(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    assert complaints(ledger) == [
        {
            "complaint_id": COMPLAINT,
            "tracking_code": "CL-7K2M-Q9XR-4T1B",
            "subject_id": SUBJECT,
            "contact_id": CONTACT,
            "received_at": at(0),
            "recorded_at": recorded(at(0)),
            "channel": "phone",
            "kind": "complaint",
            "product": "mobile.postpaid",
            "cause": "billing.roaming_charge",
            "jurisdiction": "ES-AN",
            "sector": "telecommunications",
            "vulnerable": True,
            "regimes": ["uk.fca.disp"],
            "acknowledged_at": at(10),
            "deadline_communicated": dt.date(2026, 4, 27),
            "extension_notified_at": at(2 * DAY),
            "extension_reason": "awaiting_card_scheme",
            "extended_to": dt.date(2026, 4, 30),
            "level": "ombudsman",
            "escalated_at": at(20 * DAY),
            "resolved_at": at(3 * DAY),
            "outcome": "partially_upheld",
            "redress_amount": Decimal("25.5000"),
            "redress_currency": "GBP",
            "redress_kind": "compensation",
            "escalation_rights_communicated": True,
            "escalation_rights_text_version": "fos-leaflet-2026",
            # received Mon 2 Mar 10:00 in Seville, closed Thu 5 Mar: on business day 3
            "return_band": "within_3_business_days",
            "return_band_problem": None,
            "status": "escalated_externally",
            "event_ids": [e.event_id for e in STORY],
        }
    ]


def test_status_goes_from_open_to_acknowledged_escalated_and_resolved(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    seen = []
    for event in STORY:
        ledger.feed(event)
        [row] = complaints(ledger)
        seen.append((row["status"], row["level"]))
    assert seen == [
        ("open", "frontline"),
        ("acknowledged", "frontline"),
        ("escalated", "complaints_department"),
        ("escalated", "complaints_department"),  # an extension leaves the status
        ("resolved", "complaints_department"),
        ("escalated_externally", "ombudsman"),
    ]


def test_a_resolution_without_redress_leaves_the_redress_empty(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED, complaint_resolved(at(5), outcome="rejected", redress=None))
    [row] = complaints(ledger)
    assert (row["status"], row["outcome"], row["acknowledged_at"]) == ("resolved", "rejected", None)
    assert (row["redress_amount"], row["redress_currency"], row["redress_kind"]) == (None,) * 3


def test_events_for_an_unknown_complaint_or_by_another_subject_change_nothing(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED)
    before = complaints(ledger)
    unknown = an_id("never-filed")
    ledger.feed(
        complaint_acknowledged(at(1), complaint_id=unknown),
        complaint_escalated(at(2), complaint_id=unknown),
        complaint_resolved(at(3), complaint_id=unknown),
        complaint_acknowledged(at(4), subject_id=OTHER_SUBJECT),
        complaint_resolved(at(5), subject_id=OTHER_SUBJECT),
    )
    assert complaints(ledger) == before


def test_facts_intake_refuses_leave_the_first_record_standing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED, ACKNOWLEDGED, RESOLVED)
    before = complaints(ledger)
    ledger.feed(
        complaint_filed(at(DAY), product="broadband", channel="email"),
        complaint_acknowledged(at(DAY + 1), deadline_communicated=dt.date(2026, 5, 1)),
        complaint_resolved(at(DAY + 2), outcome="upheld"),
        complaint_escalated(at(DAY + 3), from_level="frontline", to_level="supervisor"),
    )
    assert complaints(ledger) == before


def test_an_erasure_keeps_the_complaint_row_as_it_was(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    before = complaints(ledger)
    ledger.feed(subject_erased(at(30 * DAY)))
    assert complaints(ledger) == before


def test_the_story_cut_into_two_batches_anywhere_gives_the_same_rows(tmp_path: Path) -> None:
    whole = rows_after(tmp_path / "whole.duckdb", [STORY], SQL)
    for cut in range(1, len(STORY)):
        halves = [STORY[:cut], STORY[cut:]]
        assert rows_after(tmp_path / f"cut-{cut}.duckdb", halves, SQL) == whole


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    first = ledger.feed(*STORY[:3])
    ledger.feed(*STORY[3:])
    before = ledger.rows(SQL)
    ledger.deliver(first)
    assert ledger.rows(SQL) == before


def test_a_rebuild_in_one_batch_equals_applying_one_event_per_batch(tmp_path: Path) -> None:
    one_by_one = rows_after(tmp_path / "live.duckdb", [[e] for e in STORY], SQL)
    assert rows_after(tmp_path / "rebuilt.duckdb", [STORY], SQL) == one_by_one
