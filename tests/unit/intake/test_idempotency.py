"""Honest idempotency: the same key with the same command answers the original; the same key
with another command is refused (422 ``idempotency_key_reused``), never silently dropped.
Given a log and a vault, when a request is sent again, then the answer and the log."""

import json

import msgspec
import pytest

from careledger.contracts import PersonalData, encode
from careledger.contracts.commands import OpenContact
from careledger.intake.application.digest import command_digest
from careledger.intake.application.intake import Intake
from careledger.intake.domain import Rejected
from careledger.intake.entrypoints.submission import submit
from tests.unit.intake.builders import NOW, PERSONAL, close_contact, open_contact
from tests.unit.intake.fakes import InMemoryEventLog, InMemoryVault

KEY = "request-key-1"


@pytest.fixture
def log() -> InMemoryEventLog:
    return InMemoryEventLog()


@pytest.fixture
def vault() -> InMemoryVault:
    return InMemoryVault()


@pytest.fixture
def intake(log: InMemoryEventLog, vault: InMemoryVault) -> Intake:
    return Intake(log, vault, clock=lambda: NOW)


def test_the_digest_is_of_the_command_not_of_its_json_spelling() -> None:
    body = json.loads(encode(open_contact()))
    reordered = json.dumps(dict(reversed(body.items())), indent=3).encode()

    same = msgspec.json.decode(reordered, type=OpenContact)

    assert command_digest(same) == command_digest(open_contact())
    assert command_digest(open_contact(direction="outbound")) != command_digest(open_contact())
    assert command_digest(open_contact()).startswith("sha256:")


def test_the_digest_holds_no_personal_data() -> None:
    with_data = open_contact(personal=PERSONAL)
    other_data = open_contact(personal=PersonalData(name="Somebody Else"))

    assert command_digest(with_data) == command_digest(other_data)


async def test_the_event_log_keeps_the_digest_of_the_command_beside_its_event(
    intake: Intake, log: InMemoryEventLog
) -> None:
    await intake.handle(open_contact(), KEY)

    (recorded,) = (await log.history("contact", open_contact().contact_id or "")).events
    assert recorded.command_digest == command_digest(open_contact())


async def test_a_key_reused_with_another_body_is_refused_and_appends_nothing(
    intake: Intake, log: InMemoryEventLog
) -> None:
    await intake.handle(open_contact(agent="agent-first"), KEY)

    with pytest.raises(Rejected) as refused:
        await intake.handle(open_contact(agent="agent-second"), KEY)

    (error,) = refused.value.errors
    assert refused.value.status == 422
    assert (error.field, error.rule) == ("Idempotency-Key", "idempotency_key_reused")
    assert "agent-first" not in error.message and "agent-second" not in error.message
    assert "new Idempotency-Key" in error.message
    assert len(log.events) == 1


async def test_a_key_reused_with_other_personal_data_on_a_replay_is_refused(
    intake: Intake, log: InMemoryEventLog
) -> None:
    await intake.handle(open_contact(personal=PERSONAL), KEY)

    with pytest.raises(Rejected) as refused:
        await intake.handle(open_contact(personal=PersonalData(name="Somebody Else")), KEY)

    (error,) = refused.value.errors
    assert (error.rule, refused.value.status) == ("idempotency_key_reused", 422)
    assert "Somebody Else" not in error.message and str(PERSONAL.name) not in error.message
    assert len(log.events) == 1


async def test_a_key_reused_without_the_personal_data_it_first_carried_is_refused(
    intake: Intake,
) -> None:
    await intake.handle(open_contact(personal=PERSONAL), KEY)

    with pytest.raises(Rejected) as refused:
        await intake.handle(open_contact(), KEY)

    assert [e.rule for e in refused.value.errors] == ["idempotency_key_reused"]


async def test_the_same_command_with_the_same_personal_data_is_a_replay(
    intake: Intake, log: InMemoryEventLog
) -> None:
    first = await intake.handle(open_contact(personal=PERSONAL), KEY)

    again = await intake.handle(open_contact(personal=PERSONAL), KEY)

    assert again == msgspec.structs.replace(first, replayed=True)
    assert len(log.events) == 1


async def test_a_replay_after_the_subject_was_erased_answers_the_original(
    intake: Intake, vault: InMemoryVault
) -> None:
    """The vault no longer holds the data to compare with: the digest of the rest decides."""
    first = await intake.handle(open_contact(personal=PERSONAL), KEY)
    await vault.erase(open_contact().subject_id)

    again = await intake.handle(open_contact(personal=PERSONAL), KEY)

    assert again == msgspec.structs.replace(first, replayed=True)


async def test_an_event_appended_without_a_digest_still_answers_its_replay(
    intake: Intake, log: InMemoryEventLog
) -> None:
    """Events appended before digests were recorded cannot be compared: the original answers."""
    first = await intake.handle(open_contact(agent="agent-first"), KEY)
    log.forget_digests()

    again = await intake.handle(open_contact(agent="agent-second"), KEY)

    assert again == msgspec.structs.replace(first, replayed=True)


async def test_json_spelt_otherwise_is_the_same_request_and_replays(
    intake: Intake, log: InMemoryEventLog
) -> None:
    body = json.loads(encode(close_contact()))
    spelt_otherwise = json.dumps(dict(sorted(body.items(), reverse=True)), indent=2).encode()
    await intake.handle(open_contact(), "open-key-1")
    first = await submit(intake, type(close_contact()), encode(close_contact()), KEY)

    again = await submit(intake, type(close_contact()), spelt_otherwise, KEY)

    assert (first.status, again.status) == (201, 201)
    assert json.loads(again.body) == json.loads(first.body) | {"replayed": True}
    assert len(log.events) == 2


async def test_a_reused_key_over_submit_answers_422_naming_the_key(intake: Intake) -> None:
    await submit(intake, OpenContact, encode(open_contact()), KEY)

    reply = await submit(intake, OpenContact, encode(open_contact(direction="outbound")), KEY)

    assert reply.status == 422
    (error,) = json.loads(reply.body)["errors"]
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "idempotency_key_reused")
