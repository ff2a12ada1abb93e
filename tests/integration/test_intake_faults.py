"""Faults: NATS down means 503 and nothing lost; personal data never reaches the log."""

import asyncio
import os
import uuid

import pytest

from careledger.contracts import PersonalRef, decode_event
from careledger.contracts.commands import Command
from careledger.contracts.replies import Accepted
from careledger.vault import JetStreamVault, VaultKeyError, open_vault_bucket
from tests.integration.conftest import RunningIntake
from tests.support.nats import connect
from tests.support.scenario import PERSONAL, PERSONAL_STRINGS, Story
from tests.support.streams import stored_messages


async def test_with_nats_stopped_intake_answers_503_and_a_retry_appends_exactly_once(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    same = f"retry-{uuid.uuid4()}"
    intake.server.stop()

    refused = await intake.post("open-contact", payload, same)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["errors"][0]["rule"] == "log_unavailable"
    # It may have been recorded all the same: a new key could append it twice.
    assert refused.json()["title"].endswith("retry with the same Idempotency-Key")
    assert "nothing" not in refused.json()["title"]

    intake.server.start()
    for _ in range(40):  # the client reconnects by itself; the caller retries the same key
        response = await intake.post("open-contact", payload, same)
        if response.status_code == 201:
            break
        assert response.status_code == 503
        await asyncio.sleep(0.25)
    assert response.status_code == 201, response.text
    again = await intake.post("open-contact", payload, same)
    stored = await stored_messages(intake.server)
    assert len(stored) == 1
    assert (
        again.json()["event_id"] == response.json()["event_id"] == stored[0].headers["Nats-Msg-Id"]
    )


async def test_no_byte_of_the_stream_contains_the_personal_data_submitted(
    intake: RunningIntake,
) -> None:
    for command, payload in Story().commands()[:3]:
        assert (await intake.post(command, payload, f"pii-{uuid.uuid4()}")).status_code == 201

    stored = await stored_messages(intake.server)
    everything = b"".join(m.raw() for m in stored).lower()
    for secret in PERSONAL_STRINGS:
        assert secret.lower().encode() not in everything, secret
    refs = [decode_event(m.data).personal for m in stored]
    assert all(isinstance(ref, PersonalRef) for ref in refs)


async def test_the_vault_returns_personal_data_with_the_right_key_only(
    intake: RunningIntake,
) -> None:
    story = Story()
    commands = dict(story.commands())
    await intake.post("open-contact", commands["open-contact"], f"pii-{uuid.uuid4()}")
    reply = await intake.post("file-complaint", commands["file-complaint"], f"pii-{uuid.uuid4()}")
    stored = await stored_messages(intake.server)
    ref = decode_event(stored[-1].data).personal
    assert ref is not None and reply.status_code == 201

    nc = await connect(intake.server, "ledger")  # the vault's reader (the DPO's route)
    try:
        kv = await open_vault_bucket(nc.jetstream())
        revealed = await JetStreamVault(kv, intake.master_key).reveal(story.subject_id, ref)
        with pytest.raises(VaultKeyError):
            await JetStreamVault(kv, os.urandom(32)).reveal(story.subject_id, ref)
    finally:
        await nc.close()
    assert (revealed.email, revealed.text) == (PERSONAL["email"], PERSONAL["text"])


async def test_an_unexpected_failure_over_http_is_a_500_error_reply_without_details(
    intake: RunningIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(command: Command, idempotency_key: str) -> Accepted:
        raise RuntimeError("a bug that names subject 0192f1d2")

    monkeypatch.setattr(intake.service.intake(), "handle", fail)
    response = await intake.post(
        "open-contact", dict(Story().commands())["open-contact"], "unexpected-bug-1"
    )

    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "title": "Internal error: retry with the same Idempotency-Key",
        "errors": [
            {
                "field": "$",
                "rule": "internal_error",
                "message": response.json()["errors"][0]["message"],
            }
        ],
    }
    assert "0192f1d2" not in response.text
