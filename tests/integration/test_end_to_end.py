"""Commands through intake's HTTP API appear in the ledger's registers, with lineage."""

import asyncio
import uuid
from pathlib import Path

from careledger.contracts import decode_event
from tests.integration.conftest import RunningIntake
from tests.support.ledger_process import LedgerProcess
from tests.support.scenario import Story
from tests.support.streams import stored_messages


async def test_the_story_told_to_intake_is_in_every_register_with_its_event_ids(
    intake: RunningIntake, tmp_path: Path
) -> None:
    story = Story()
    for command, payload in story.commands()[:-1]:  # all but the erasure
        response = await intake.post(command, payload, f"e2e-{uuid.uuid4()}")
        assert response.status_code == 201, response.text
    stored = await stored_messages(intake.server)
    ids = {type(e).__name__: e.event_id for e in (decode_event(m.data) for m in stored)}

    ledger = LedgerProcess(intake.server.access("ledger"), tmp_path / "ledger.duckdb").start()
    try:
        await asyncio.to_thread(ledger.wait_caught_up, stored[-1].sequence)
        complaints = ledger.get(f"/v1/registers/complaints?subject_id={story.subject_id}")
        consents = ledger.get(f"/v1/registers/consents?subject_id={story.subject_id}")
        escalations = ledger.get(f"/v1/registers/escalations?complaint_id={story.complaint_id}")
        contacts = ledger.get(f"/v1/registers/contacts?contact_id={story.contact_id}")
        timeline = ledger.get(f"/v1/subjects/{story.subject_id}/timeline")
        verify = ledger.get("/v1/ledger/verify")
    finally:
        ledger.stop()

    (complaint,) = complaints["items"]
    assert complaint["status"] == "resolved" and complaint["outcome"] == "upheld"
    assert complaint["event_ids"] == [
        ids["ComplaintFiled"],
        ids["ComplaintAcknowledged"],
        ids["ComplaintEscalated"],
        ids["ComplaintResolved"],
    ]
    by_purpose = {row["purpose"]: row for row in consents["items"]}
    assert by_purpose["marketing"]["state"] == "withdrawn"
    assert by_purpose["marketing"]["event_ids"] == [ids["ConsentGiven"], ids["ConsentWithdrawn"]]
    assert by_purpose["call_recording"]["state"] == "given"
    assert [e["to_level"] for e in escalations["items"]] == ["supervisor"]
    assert escalations["items"][0]["tracking_code"] == complaint["tracking_code"]
    assert contacts["items"][0]["event_ids"] == [ids["ContactOpened"], ids["ContactClosed"]]
    assert [row["type"] for row in timeline["items"]] == [
        "ContactOpened",
        "ConsentGiven",
        "ComplaintFiled",
        "ComplaintAcknowledged",
        "ComplaintEscalated",
        "ComplaintResolved",
        "ConsentWithdrawn",
        "ContactClosed",
    ]
    assert verify["ok"] is True and verify["events"] == len(stored)
