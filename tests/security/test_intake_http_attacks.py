"""Who may send what to intake over HTTP: the clients file's tokens and grants, enforced
before anything is appended or written to the vault; each refusal logged and counted."""

import base64
import logging
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from careledger.contracts.subjects import EVENT_STREAM, IDEMPOTENCY_KEY
from careledger.intake.bootstrap import IntakeService
from careledger.stack.nats_server import NatsServer
from careledger.stack.principals import ClientGrant, new_token, write_clients_file
from careledger.vault import VAULT_STREAM
from tests.integration.conftest import RunningIntake
from tests.support.nats import connect
from tests.support.principals import CLIENT_ID, Principals, write_principals
from tests.support.scenario import Story

GRANTS = {  # name: (client_id, commands)
    "channel": (CLIENT_ID, ("*", "erase-subject")),
    "no-privacy": (CLIENT_ID, ("*",)),
    "contacts-only": (CLIENT_ID, ("open-contact",)),
    "other-crm": ("other-crm", ("*", "erase-subject")),
}


@pytest.fixture
def tokens() -> dict[str, str]:
    return {name: new_token() for name in GRANTS}


@pytest.fixture
def principals(tmp_path: Path, tokens: dict[str, str]) -> Principals:
    """The intake fixture's clients file, with every client of GRANTS in it."""
    written = write_principals(tmp_path / "principals")
    grants = [ClientGrant(n, tokens[n], *GRANTS[n]) for n in GRANTS]
    write_clients_file(written.clients_file, grants)
    return replace(written, intake_token=tokens["channel"])


def key() -> str:
    return f"test-{uuid.uuid4()}"


async def send(
    intake: RunningIntake, command: str, payload: dict[str, Any], token: str | None
) -> Any:
    headers = {IDEMPOTENCY_KEY: key(), "Authorization": f"Bearer {token}" if token else ""}
    return await intake.client.post(f"/v1/commands/{command}", json=payload, headers=headers)


async def stream_states(server: NatsServer) -> tuple[tuple[int, int], tuple[int, int]]:
    """(messages, last sequence) of the event stream and of the vault's stream."""
    nc = await connect(server)
    try:
        js = nc.jetstream()
        events, vault = await js.stream_info(EVENT_STREAM), await js.stream_info(VAULT_STREAM)
        return (
            (events.state.messages, events.state.last_seq),
            (vault.state.messages, vault.state.last_seq),
        )
    finally:
        await nc.close()


async def a_subject_with_personal_data(intake: RunningIntake) -> Story:
    story = Story()
    opened = await intake.post("open-contact", dict(story.commands())["open-contact"], key())
    assert opened.status_code == 201, opened.text
    return story


def erasure(story: Story) -> dict[str, Any]:
    return dict(story.commands())["erase-subject"]


async def test_an_anonymous_erasure_is_refused_401_and_erases_nothing(
    intake: RunningIntake,
) -> None:
    story = await a_subject_with_personal_data(intake)
    before = await stream_states(intake.server)

    for token in (None, "not-a-token-anyone-has"):
        refused = await send(intake, "erase-subject", erasure(story), token)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
            ("Authorization", "bearer_token")
        ]
    assert await stream_states(intake.server) == before


async def test_erasure_needs_its_own_grant_a_star_does_not_give_it(
    intake: RunningIntake, tokens: dict[str, str]
) -> None:
    story = await a_subject_with_personal_data(intake)
    before = await stream_states(intake.server)

    refused = await send(intake, "erase-subject", erasure(story), tokens["no-privacy"])
    assert refused.status_code == 403
    (error,) = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("Authorization", "command_not_granted")
    assert "privacy command" in error["message"] and "no-privacy" in error["message"]
    assert await stream_states(intake.server) == before

    erased = await send(intake, "erase-subject", erasure(story), tokens["channel"])
    assert erased.status_code == 201, erased.text


async def test_a_command_outside_the_grant_is_refused_403_and_appends_nothing(
    intake: RunningIntake, tokens: dict[str, str]
) -> None:
    story = await a_subject_with_personal_data(intake)
    before = await stream_states(intake.server)
    complaint = dict(story.commands())["file-complaint"]

    refused = await send(intake, "file-complaint", complaint, tokens["contacts-only"])
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["rule"] == "command_not_granted"
    assert await stream_states(intake.server) == before


async def test_a_client_id_that_is_not_the_clients_own_is_refused_403(
    intake: RunningIntake, tokens: dict[str, str]
) -> None:
    story = Story()
    opening = dict(story.commands())["open-contact"]
    before = await stream_states(intake.server)

    refused = await send(intake, "open-contact", opening, tokens["other-crm"])
    assert refused.status_code == 403
    (error,) = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("$.client_id", "client_id")
    assert "'other-crm'" in error["message"] and f"'{CLIENT_ID}'" in error["message"]
    assert await stream_states(intake.server) == before

    own = opening | {"client_id": "other-crm"}
    accepted = await send(intake, "open-contact", own, tokens["other-crm"])
    assert accepted.status_code == 201, accepted.text


async def test_refusals_are_logged_with_the_client_never_the_token_and_counted(
    intake: RunningIntake, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    story = Story()
    caplog.set_level(logging.WARNING, logger="careledger.runtime.gate")
    await send(intake, "erase-subject", erasure(story), None)
    await send(intake, "erase-subject", erasure(story), "a-wrong-token")
    await send(intake, "erase-subject", erasure(story), tokens["no-privacy"])

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "anonymous@" in lines[0] and "401 bearer_token" in lines[0]
    assert "/v1/commands/erase-subject" in lines[0]
    assert "from no-privacy: 403 command_not_granted" in lines[2]
    secrets = ("a-wrong-token", *tokens.values())
    assert not any(token in text for token in secrets for text in lines)
    health = (await intake.client.get("/healthz", headers={"Authorization": ""})).json()
    assert health["refusals"] == {"401": 2, "403": 1, "429": 0}
    assert health["insecure_dev"] is False


async def test_each_client_gets_429_with_retry_after_past_its_own_rate(
    intake: RunningIntake, tokens: dict[str, str]
) -> None:
    rate = 3
    settings = replace(intake.service.settings, rate_limit=rate)
    environ = {"CARELEDGER_MASTER_KEY": base64.b64encode(intake.master_key).decode()}
    async with AsyncTestClient(IntakeService(settings, environ=environ).http_app()) as client:

        async def send_as(name: str) -> Any:
            return await client.post(
                "/v1/commands/open-contact",
                json=dict(Story().commands())["open-contact"],
                headers={IDEMPOTENCY_KEY: key(), "Authorization": f"Bearer {tokens[name]}"},
            )

        # 2 * rate + 1 in well under a second: at least one one-second window overflows
        burst = [await send_as("channel") for _ in range(2 * rate + 1)]
        other = await send_as("no-privacy")

    statuses = [r.status_code for r in burst]
    assert set(statuses) == {201, 429}, statuses
    assert rate <= statuses.index(429) <= 2 * rate
    throttled = burst[statuses.index(429)]
    assert int(throttled.headers["Retry-After"]) >= 1
    body = throttled.json()
    assert (body["status"], body["errors"][0]["rule"]) == (429, "rate_limit")
    assert "from channel" in body["errors"][0]["message"]
    assert other.status_code == 201  # another client's budget is its own
