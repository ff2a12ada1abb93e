"""The history routes of a running ledger: registers as of an instant, consent at an
instant, a subject's proof bundle — and field-level refusals of bad parameters."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.entrypoints.cli import main
from careledger.ledger.queries.proof import check_bundle
from careledger.ledger.settings import Settings
from tests.integration.conftest import RunningIntake
from tests.support.nats import service_settings
from tests.support.scenario import PERSONAL_STRINGS, Story

Client = AsyncTestClient[Any]


@pytest.fixture
async def story_ledger(
    intake: RunningIntake, tmp_path: Path
) -> AsyncIterator[tuple[Story, Client, int]]:
    """The whole scenario (erasure last) through intake, applied by a running ledger."""
    story = Story()
    commands = story.commands()
    for n, (command, payload) in enumerate(commands):
        reply = await intake.post(command, payload, f"history-{story.subject_id}-{n}")
        assert reply.status_code == 201, reply.text
    settings = Settings(
        **service_settings(intake.server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        auditors_file=intake.principals.auditors_file,
    )
    async with AsyncTestClient(LedgerService(settings).http_app()) as ledger:
        ledger.headers.update(intake.principals.auditor_headers())
        for _ in range(200):
            position = (await ledger.get("/v1/ledger/position")).json()
            if position["ledger_sequence"] >= len(commands):
                break
            await asyncio.sleep(0.05)
        yield story, ledger, len(commands)


async def test_a_register_as_of_now_equals_the_register_and_before_the_story_is_empty(
    story_ledger: tuple[Story, Client, int],
) -> None:
    story, ledger, _ = story_ledger
    mine = f"subject_id={story.subject_id}"
    for name in ("complaints", "consents", "contacts", "escalations", "erasures"):
        today = (await ledger.get(f"/v1/registers/{name}?{mine}")).json()
        for axis in ("occurred", "recorded"):
            then = await ledger.get(f"/v1/registers/{name}?{mine}&as_of=now&axis={axis}")
            assert then.status_code == 200, then.text
            assert then.json()["items"] == today["items"], name
        before = await ledger.get(f"/v1/registers/{name}?{mine}&as_of=2000-01-01T00:00:00Z")
        assert before.json()["total"] == 0


async def test_consent_at_an_instant_answers_with_the_evidence(
    story_ledger: tuple[Story, Client, int],
) -> None:
    story, ledger, _ = story_ledger
    route = f"/v1/subjects/{story.subject_id}/consents"
    recording = (await ledger.get(f"{route}/call_recording?at=now")).json()
    marketing = (await ledger.get(f"{route}/marketing?at=now&axis=recorded")).json()
    never = (await ledger.get(f"{route}/call_recording?at=2000-01-01T00:00:00%2B01:00")).json()

    assert (recording["state"], recording["consent_id"]) == ("given", story.consent_id)
    assert recording["consented"] is False and recording["subject_erased_at"]  # erased last
    assert recording["given"]["evidence"]["reference"] and recording["given"]["sequence"] >= 1
    assert (marketing["state"], marketing["withdrawn"]["channel"]) == ("withdrawn", "email")
    assert (never["consented"], never["state"]) == (False, "never_given")


async def test_the_proof_bundle_of_a_subject_checks_and_holds_no_personal_data(
    story_ledger: tuple[Story, Client, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story, ledger, events = story_ledger
    reply = await ledger.get(f"/v1/subjects/{story.subject_id}/proof")
    bundle = reply.json()
    payloads = b"".join(base64.b64decode(i["payload_base64"]) for i in bundle["items"])

    assert reply.status_code == 200
    assert len(bundle["items"]) == events
    assert bundle["erased"]["sequence"] == bundle["items"][-1]["sequence"]
    assert check_bundle(bundle) == []
    for personal in PERSONAL_STRINGS:
        assert personal not in reply.text and personal.encode() not in payloads

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(SystemExit) as passed:
        main(["audit", "proof", "--check", str(path)])
    bundle["items"][0]["hash"] = "00" * 32
    path.write_text(json.dumps(bundle))
    with pytest.raises(SystemExit) as failed:
        main(["audit", "proof", "--check", str(path)])
    assert (passed.value.code, failed.value.code) == (0, 1)
    assert "item 0 (sequence 1): hash does not match" in capsys.readouterr().out


BAD = [
    ("/v1/registers/contacts?as_of=2026-11-01T00:00:00", "as_of"),
    ("/v1/registers/contacts?as_of=last+tuesday", "as_of"),
    ("/v1/registers/contacts?as_of=now&axis=sideways", "axis"),
    ("/v1/registers/contacts?as_of=now&colour=red", "colour"),
    ("/v1/registers/contacts?as_of=now&limit=many", "limit"),
    ("/v1/subjects/s-1/consents/marketing?at=2026-11-01", "at"),
    ("/v1/subjects/s-1/consents/marketing?axis=both", "axis"),
]


async def test_bad_history_parameters_are_refused_naming_the_field(
    story_ledger: tuple[Story, Client, int],
) -> None:
    _, ledger, _ = story_ledger
    answers = [await ledger.get(query) for query, _ in BAD]
    assert [(a.status_code, a.json()["errors"][0]["field"]) for a in answers] == [
        (400, field) for _, field in BAD
    ]
    unknown = await ledger.get("/v1/registers/nothing?as_of=now")
    assert unknown.status_code == 404
