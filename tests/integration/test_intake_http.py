"""Intake over HTTP against a real nats-server: one command, one event, nothing else."""

import asyncio
import json
import uuid

from careledger.contracts import PersonalData, decode_event
from careledger.contracts.subjects import EXPECTED_LAST_SUBJECT_SEQUENCE, IDEMPOTENCY_KEY, MSG_ID
from careledger.intake.domain.ids import event_id_for
from careledger.vault import JetStreamVault, open_vault_bucket
from tests.integration.conftest import RunningIntake
from tests.support.nats import connect
from tests.support.scenario import Story
from tests.support.streams import stored_messages


def key() -> str:
    return f"test-{uuid.uuid4()}"


async def test_each_command_over_http_appends_exactly_one_event_with_subject_and_headers(
    intake: RunningIntake,
) -> None:
    story = Story()
    replies = []
    for command, payload in story.commands():
        response = await intake.post(command, payload, key())
        assert response.status_code == 201, (command, response.text)
        replies.append(response.json())

    stored = await stored_messages(intake.server)
    assert len(stored) == len(replies)
    for reply, message in zip(replies, stored, strict=True):
        event = decode_event(message.data)
        assert message.sequence == reply["stream_sequence"]
        assert message.subject == reply["subject"]
        assert message.subject == f"careledger.events.{event.aggregate}.{event.aggregate_id}"
        assert message.headers[MSG_ID] == event.event_id == reply["event_id"]
        assert EXPECTED_LAST_SUBJECT_SEQUENCE in message.headers
        assert type(event).__name__ == reply["type"]
    assert [r["type"] for r in replies] == [
        "ContactOpened",
        "ConsentGiven",
        "ComplaintFiled",
        "ComplaintAcknowledged",
        "ComplaintEscalated",
        "ComplaintResolved",
        "ConsentWithdrawn",
        "ContactClosed",
        "SubjectErased",
    ]


async def test_a_complaint_reply_carries_the_tracking_code_of_its_event(
    intake: RunningIntake,
) -> None:
    story = Story()
    commands = dict(story.commands())
    await intake.post("open-contact", commands["open-contact"], key())
    reply = (await intake.post("file-complaint", commands["file-complaint"], key())).json()

    stored = await stored_messages(intake.server)
    filed = decode_event(stored[-1].data)
    assert reply["tracking_code"] == filed.tracking_code  # type: ignore[attr-defined]
    assert reply["tracking_code"].startswith("CL-")


async def test_the_same_idempotency_key_twice_returns_the_original_and_appends_once(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    payload.pop("contact_id")
    same = key()
    first = (await intake.post("open-contact", payload, same)).json()
    second = (await intake.post("open-contact", payload, same)).json()

    assert second["event_id"] == first["event_id"]
    assert second["aggregate_id"] == first["aggregate_id"]
    assert second["stream_sequence"] == first["stream_sequence"]
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert len(await stored_messages(intake.server)) == 1


async def test_a_retry_after_the_duplicate_window_still_returns_the_original_event(
    intake_short_window: RunningIntake,
) -> None:
    intake = intake_short_window
    payload = dict(Story().commands())["open-contact"]
    payload.pop("contact_id")  # derived from the key, so the retry finds the same contact
    same = key()
    first = (await intake.post("open-contact", payload, same)).json()
    await asyncio.sleep(1.5)  # the stream's Nats-Msg-Id memory (1 s) has expired
    again = (await intake.post("open-contact", payload, same)).json()

    assert again["event_id"] == first["event_id"] and again["replayed"] is True
    assert len(await stored_messages(intake.server)) == 1


async def test_concurrent_conflicting_writes_append_one_event_and_refuse_the_rest(
    intake: RunningIntake,
) -> None:
    story = Story()
    commands = dict(story.commands())
    for name in ("open-contact", "file-complaint"):
        assert (await intake.post(name, commands[name], key())).status_code == 201

    racers = [
        intake.post("resolve-complaint", commands["resolve-complaint"], key()) for _ in range(8)
    ]
    statuses = sorted(r.status_code for r in await asyncio.gather(*racers))

    assert statuses == [201] + [409] * 7
    types = [decode_event(m.data).__class__.__name__ for m in await stored_messages(intake.server)]
    assert types.count("ComplaintResolved") == 1


async def test_concurrent_escalations_are_redecided_on_the_new_level_never_forked(
    intake: RunningIntake,
) -> None:
    commands = dict(Story().commands())
    for name in ("open-contact", "file-complaint"):
        await intake.post(name, commands[name], key())

    racers = [
        intake.post("escalate-complaint", commands["escalate-complaint"], key()) for _ in range(5)
    ]
    responses = await asyncio.gather(*racers)

    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422, 422]
    refused = [r.json() for r in responses if r.status_code == 422]
    assert all(r["errors"][0]["rule"] == "escalates_upward" for r in refused)
    stored = [decode_event(m.data) for m in await stored_messages(intake.server)]
    assert [type(e).__name__ for e in stored].count("ComplaintEscalated") == 1


async def test_a_reused_key_with_other_personal_data_is_refused_naming_the_key(
    intake: RunningIntake,
) -> None:
    story = Story()
    payload = dict(story.commands())["open-contact"]
    same = key()
    # A first attempt kept its personal data, then got no PubAck (503): nothing in the log.
    nc = await connect(intake.server, "intake")
    try:
        vault = JetStreamVault(await open_vault_bucket(nc.jetstream()), intake.master_key)
        addressed = {"subject": story.subject_id, "contact": story.contact_id}
        event_id = event_id_for("open-contact", same, addressed)
        await vault.store(story.subject_id, event_id, PersonalData(name="Somebody Else"))
    finally:
        await nc.close()

    response = await intake.post("open-contact", payload, same)

    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "idempotency_key_reused")
    assert "new Idempotency-Key" in error["message"]
    assert await stored_messages(intake.server) == []


async def test_a_key_reused_for_another_contact_makes_a_distinct_event_not_a_collision(
    intake: RunningIntake,
) -> None:
    first = dict(Story().commands())["open-contact"]
    second = dict(Story().commands())["open-contact"]
    same = key()
    replies = [(await intake.post("open-contact", p, same)).json() for p in (first, second)]

    stored = await stored_messages(intake.server)
    assert replies[0]["event_id"] != replies[1]["event_id"]
    assert [m.headers["Nats-Msg-Id"] for m in stored] == [r["event_id"] for r in replies]
    assert [r["aggregate_id"] for r in replies] == [first["contact_id"], second["contact_id"]]


async def test_a_key_reused_with_another_body_is_refused_422_and_appends_nothing(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    same = key()
    first = await intake.post("open-contact", payload | {"agent": "agent-first"}, same)

    second = await intake.post("open-contact", payload | {"agent": "agent-second"}, same)

    assert (first.status_code, second.status_code) == (201, 422), second.text
    (error,) = second.json()["errors"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "idempotency_key_reused")
    assert "agent-first" not in second.text and "agent-second" not in second.text
    assert len(await stored_messages(intake.server)) == 1


async def test_the_same_body_spelt_otherwise_is_a_replay_of_the_original(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    same = key()
    first = (await intake.post("open-contact", payload, same)).json()
    respelt = json.dumps(dict(reversed(payload.items())), indent=4)

    again = await intake.client.post(
        "/v1/commands/open-contact",
        content=respelt,
        headers={IDEMPOTENCY_KEY: same, "Content-Type": "application/json"},
    )

    assert again.status_code == 201, again.text
    assert again.json() == first | {"replayed": True}
    assert len(await stored_messages(intake.server)) == 1


async def test_the_appended_event_carries_the_digest_of_its_command_in_a_header(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    await intake.post("open-contact", payload, key())

    (message,) = await stored_messages(intake.server)
    digest = message.headers["CareLedger-Command-Digest"]
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


async def test_five_invalid_fields_over_http_give_five_errors(intake: RunningIntake) -> None:
    payload = dict(Story().commands())["open-contact"] | {
        "subject_id": "not an id!",
        "occurred_at": "yesterday",
        "channel": "carrier-pigeon",
        "direction": 7,
        "colour": "blue",
    }

    response = await intake.post("open-contact", payload, key())

    assert response.status_code == 422
    fields = sorted(e["field"] for e in response.json()["errors"])
    assert fields == ["$.channel", "$.colour", "$.direction", "$.occurred_at", "$.subject_id"]


async def test_a_method_not_allowed_answers_405_with_the_allowed_methods(
    intake: RunningIntake,
) -> None:
    command = await intake.client.get("/v1/commands/open-contact")
    health = await intake.client.post("/healthz")

    assert (command.status_code, health.status_code) == (405, 405)
    assert "POST" in command.headers["Allow"].split(", ")
    assert "GET" not in command.headers["Allow"]
    assert "GET" in health.headers["Allow"].split(", ")
    assert "POST" not in health.headers["Allow"]
