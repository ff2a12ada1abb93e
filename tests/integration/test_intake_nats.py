"""Intake over NATS request/reply: the same commands, the same replies, the same errors."""

import asyncio
import json
import uuid
from typing import Any

import msgspec
import pytest
from nats.aio.msg import Msg

from careledger.contracts import ErrorReply, decode_event
from careledger.contracts.commands import Command
from careledger.contracts.replies import Accepted
from careledger.contracts.subjects import IDEMPOTENCY_KEY, MSG_ID, command_subject
from careledger.stack.nats_server import NatsServer
from tests.integration.conftest import RunningIntake
from tests.support.nats import connect
from tests.support.scenario import Story
from tests.support.streams import stored_messages

STATUS = "CareLedger-Status"


async def request(server: NatsServer, command: str, body: bytes, key: str | None = None) -> Msg:
    """One request/reply on ``careledger.intake.<command>``, on a channel's connection of its
    own."""
    nc = await connect(server, "channel")
    try:
        headers = {IDEMPOTENCY_KEY: key} if key is not None else None
        return await nc.request(command_subject(command), body, timeout=5, headers=headers)
    finally:
        await nc.close()


async def test_each_command_over_nats_appends_exactly_one_event_on_the_right_subject(
    intake: RunningIntake,
) -> None:
    nc = await connect(intake.server, "channel")
    replies = []
    try:
        for command, payload in Story().commands():
            msg = await nc.request(
                command_subject(command),
                json.dumps(payload).encode(),
                timeout=5,
                headers={IDEMPOTENCY_KEY: f"nats-{uuid.uuid4()}"},
            )
            assert msg.headers is not None and msg.headers[STATUS] == "201", msg.data
            replies.append(json.loads(msg.data))
    finally:
        await nc.close()

    stored = await stored_messages(intake.server)
    assert [m.sequence for m in stored] == [r["stream_sequence"] for r in replies]
    for reply, message in zip(replies, stored, strict=True):
        event = decode_event(message.data)
        assert message.subject == reply["subject"]
        assert message.headers[MSG_ID] == event.event_id == reply["event_id"]


async def test_a_nats_request_refused_by_a_rule_gets_the_same_field_error_as_http(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["give-consent"] | {"mechanism": "pre_ticked_box"}
    payload.pop("contact_id")
    body = json.dumps(payload).encode()
    over_nats = await request(intake.server, "give-consent", body, "same-key-for-both")
    over_http = await intake.post("give-consent", payload, "same-key-for-both")

    assert over_nats.headers is not None and over_nats.headers[STATUS] == "422"
    assert over_http.status_code == 422
    assert json.loads(over_nats.data) == over_http.json()
    assert over_http.json()["errors"][0]["field"] == "$.mechanism"
    assert await stored_messages(intake.server) == []


async def test_a_nats_request_without_idempotency_key_is_refused(intake: RunningIntake) -> None:
    msg = await request(intake.server, "open-contact", b"{}")
    assert msg.headers is not None and msg.headers[STATUS] == "400"
    assert json.loads(msg.data)["errors"][0]["field"] == "Idempotency-Key"


async def test_an_unexpected_failure_still_answers_the_requester_with_a_500_error_reply(
    intake: RunningIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(command: Command, idempotency_key: str) -> Accepted:
        raise RuntimeError("a bug that names subject 0192f1d2")

    monkeypatch.setattr(intake.service.intake(), "handle", fail)
    body = json.dumps(dict(Story().commands())["open-contact"]).encode()

    msg = await request(intake.server, "open-contact", body, "unexpected-failure")

    assert msg.headers is not None and msg.headers[STATUS] == "500"
    reply = msgspec.json.decode(msg.data, type=ErrorReply)
    assert reply.status == 500
    assert [(e.field, e.rule) for e in reply.errors] == [("$", "internal_error")]
    assert "same Idempotency-Key" in reply.errors[0].message
    assert b"0192f1d2" not in msg.data  # the details stay in the log


class SlowVault:
    """Wraps the vault, holding each store a moment and counting how many overlap."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.in_flight, self.most = inner, 0, 0

    async def store(self, *args: Any) -> Any:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.3)
            return await self.inner.store(*args)
        finally:
            self.in_flight -= 1

    async def holds(self, *args: Any) -> Any:
        return await self.inner.holds(*args)

    async def erase(self, subject_id: str) -> int:
        return int(await self.inner.erase(subject_id))


async def test_requests_for_one_command_are_answered_concurrently(intake: RunningIntake) -> None:
    service_intake = intake.service.intake()
    slow = SlowVault(service_intake.vault)
    service_intake.vault = slow
    nc = await connect(intake.server, "channel")
    try:
        replies = await asyncio.gather(
            *(
                nc.request(
                    command_subject("open-contact"),
                    json.dumps(dict(Story().commands())["open-contact"]).encode(),
                    timeout=10,
                    headers={IDEMPOTENCY_KEY: f"together-{uuid.uuid4()}"},
                )
                for _ in range(8)
            )
        )
    finally:
        await nc.close()
    assert [r.headers[STATUS] for r in replies if r.headers] == ["201"] * 8
    assert slow.most > 1


async def test_a_key_reused_with_another_body_over_nats_is_refused_422(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    same = f"nats-{uuid.uuid4()}"
    first = await request(intake.server, "open-contact", json.dumps(payload).encode(), same)
    other = json.dumps(payload | {"direction": "outbound"}).encode()

    second = await request(intake.server, "open-contact", other, same)

    assert first.headers is not None and first.headers[STATUS] == "201"
    assert second.headers is not None and second.headers[STATUS] == "422", second.data
    (error,) = json.loads(second.data)["errors"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "idempotency_key_reused")
    assert len(await stored_messages(intake.server)) == 1


async def test_the_same_body_spelt_otherwise_over_nats_replays_the_original(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    same = f"nats-{uuid.uuid4()}"
    first = await request(intake.server, "open-contact", json.dumps(payload).encode(), same)
    respelt = json.dumps(dict(reversed(payload.items())), indent=2).encode()

    again = await request(intake.server, "open-contact", respelt, same)

    assert again.headers is not None and again.headers[STATUS] == "201", again.data
    assert json.loads(again.data) == json.loads(first.data) | {"replayed": True}
    assert len(await stored_messages(intake.server)) == 1
