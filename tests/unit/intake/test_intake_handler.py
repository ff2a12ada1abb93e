"""The intake handler over in-memory ports: exactly once per key, retried on concurrent
writes, personal data aside, erasure converging. Given a log and a vault, when a command is
handled, then the log, the vault and the answer."""

import msgspec
import pytest

from careledger.contracts import ErrorReply, FieldError, PersonalData, encode
from careledger.contracts.commands import GiveConsent
from careledger.contracts.events import ContactOpened, Event, SubjectErased
from careledger.contracts.replies import Accepted
from careledger.intake.application.intake import Intake
from careledger.intake.application.ports import LogUnavailable
from careledger.intake.domain import Context, Rejected
from careledger.intake.entrypoints.submission import submit
from tests.unit.intake.builders import (
    CONSENT,
    CONTACT,
    NOW,
    PERSONAL,
    SUBJECT,
    an_id,
    close_contact,
    erase,
    give_consent,
    open_contact,
    when,
)
from tests.unit.intake.fakes import InMemoryEventLog, InMemoryVault

KEY, ERASE_KEY = "request-key-1", "erase-key-1"
ATTEMPTS = 3


@pytest.fixture
def log() -> InMemoryEventLog:
    return InMemoryEventLog()


@pytest.fixture
def vault() -> InMemoryVault:
    return InMemoryVault()


@pytest.fixture
def intake(log: InMemoryEventLog, vault: InMemoryVault) -> Intake:
    return Intake(log, vault, clock=lambda: NOW, max_attempts=ATTEMPTS)


def another_writers(n: int) -> Event:
    """A consent another request gave the same subject: a write on the subject aggregate."""
    ctx = Context(now=NOW, event_id=an_id(f"rival-{n}"), new_id=an_id(f"rival-new-{n}"))
    (event,) = when(give_consent(consent_id=an_id(f"rival-consent-{n}")), ctx=ctx)
    return event


def another_writers_erasure() -> Event:
    ctx = Context(now=NOW, event_id=an_id("rival-erasure"), new_id=an_id("rival-erasure-new"))
    (event,) = when(erase(), ctx=ctx)
    return event


# Exactly once per idempotency key


async def test_a_command_appends_one_event_and_answers_with_it(
    intake: Intake, log: InMemoryEventLog
) -> None:
    accepted = await intake.handle(open_contact(), KEY)

    (event,) = log.events
    assert accepted == Accepted(
        event_id=event.event_id,
        type="ContactOpened",
        subject=f"careledger.events.contact.{CONTACT}",
        stream_sequence=1,
        aggregate="contact",
        aggregate_id=CONTACT,
        replayed=False,
    )
    assert event.recorded_at == NOW


async def test_the_same_idempotency_key_replays_the_first_answer_and_appends_nothing(
    intake: Intake, log: InMemoryEventLog
) -> None:
    first = await intake.handle(give_consent(), KEY)

    again = await intake.handle(give_consent(), KEY)

    assert first.consent_id == CONSENT and not first.replayed
    assert again == msgspec.structs.replace(first, replayed=True)
    assert len(log.events) == 1


async def test_a_replay_after_later_events_answers_the_original_event_and_sequence(
    intake: Intake, log: InMemoryEventLog
) -> None:
    first = await intake.handle(open_contact(), KEY)
    await intake.handle(close_contact(), "close-key-1")

    again = await intake.handle(open_contact(), KEY)  # not "contact already open"

    assert again == msgspec.structs.replace(first, replayed=True)
    assert [type(e).__name__ for e in log.events] == ["ContactOpened", "ContactClosed"]


async def test_the_same_request_twice_in_flight_appends_once_and_the_later_is_a_replay(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    earlier: list[Accepted] = []

    async def the_same_request_meanwhile() -> None:
        earlier.append(await intake.handle(open_contact(personal=PERSONAL), KEY))

    vault.before_next_store = the_same_request_meanwhile  # after our read, before our append

    later = await intake.handle(open_contact(personal=PERSONAL), KEY)

    assert later == msgspec.structs.replace(earlier[0], replayed=True)
    assert len(log.events) == 1


# Concurrent writes


async def test_a_write_between_reading_and_appending_is_retried_and_succeeds(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.write_concurrently(another_writers(1))

    accepted = await intake.handle(give_consent(), KEY)

    assert (accepted.stream_sequence, accepted.replayed) == (2, False)
    assert [e.event_id for e in log.events] == [another_writers(1).event_id, accepted.event_id]


async def test_a_retry_decides_again_on_what_the_concurrent_write_changed(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.write_concurrently(another_writers_erasure())

    with pytest.raises(Rejected) as refused:
        await intake.handle(give_consent(), KEY)

    (error,) = refused.value.errors
    assert (refused.value.status, error.rule) == (422, "subject_erased")
    assert log.events == [another_writers_erasure()]


async def test_one_concurrent_write_fewer_than_the_attempts_still_succeeds(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.write_concurrently(*(another_writers(n) for n in range(ATTEMPTS - 1)))

    accepted = await intake.handle(give_consent(), KEY)

    assert accepted.stream_sequence == ATTEMPTS
    assert log.events[-1].event_id == accepted.event_id


async def test_a_concurrent_write_on_every_attempt_is_a_409_and_nothing_of_ours_is_appended(
    intake: Intake, log: InMemoryEventLog
) -> None:
    rivals = [another_writers(n) for n in range(ATTEMPTS)]
    log.write_concurrently(*rivals)

    with pytest.raises(Rejected) as refused:
        await intake.handle(give_consent(), KEY)

    assert refused.value.status == 409
    assert refused.value.errors == [
        FieldError(
            field="$",
            rule="concurrent_write",
            message=f"the record kept changing under {ATTEMPTS} attempts; retry with the same "
            "Idempotency-Key",
        )
    ]
    assert log.events == rivals


async def test_the_http_layer_answers_that_conflict_409_and_the_same_key_then_succeeds(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.write_concurrently(*(another_writers(n) for n in range(ATTEMPTS)))
    body = encode(give_consent())

    conflict = await submit(intake, GiveConsent, body, KEY)
    retried = await submit(intake, GiveConsent, body, KEY)

    assert conflict.status == 409
    assert msgspec.json.decode(conflict.body, type=ErrorReply).errors[0].rule == "concurrent_write"
    assert retried.status == 201
    accepted = msgspec.json.decode(retried.body, type=Accepted)
    assert [e.event_id for e in log.events].count(accepted.event_id) == 1


async def test_a_message_that_is_no_event_still_counts_for_the_concurrency_check(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.append_invalid("subject", SUBJECT)

    accepted = await intake.handle(give_consent(), KEY)

    assert accepted.stream_sequence == 2


# Personal data


async def test_personal_data_goes_to_the_vault_and_only_a_reference_into_the_event(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    await intake.handle(open_contact(personal=PERSONAL), KEY)

    (event,) = log.events
    assert event.personal is not None
    assert vault.records == {SUBJECT: {event.personal.vault_key: PERSONAL}}
    assert event.personal.vault_key == event.event_id.lower()
    for secret in ("Zoë", "Quintanilla", "Ybarra"):
        assert secret.encode() not in encode(event), secret


@pytest.mark.parametrize("personal", [None, PersonalData()], ids=["none", "empty"])
async def test_a_command_without_personal_data_stores_nothing_in_the_vault(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault, personal: PersonalData | None
) -> None:
    await intake.handle(open_contact(personal=personal), KEY)

    assert log.events[0].personal is None
    assert vault.records == {}


async def test_a_refused_command_leaves_no_personal_data_in_the_vault(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    await intake.handle(erase(), ERASE_KEY)

    with pytest.raises(Rejected):
        await intake.handle(open_contact(personal=PERSONAL), KEY)

    assert vault.records == {}
    assert [type(e) for e in log.events] == [SubjectErased]


async def test_a_key_reused_with_other_personal_data_is_refused_as_another_request(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.fail("append")  # the first request's data reached the vault, its event did not
    with pytest.raises(LogUnavailable):
        await intake.handle(open_contact(personal=PERSONAL), KEY)

    with pytest.raises(Rejected) as refused:
        await intake.handle(open_contact(personal=PersonalData(name="Somebody Else")), KEY)

    (error,) = refused.value.errors
    assert (error.field, error.rule) == ("Idempotency-Key", "idempotency_key_reused")
    assert refused.value.status == 422
    assert log.events == []


# Erasure


async def test_personal_data_stored_by_a_request_racing_an_erasure_is_erased_too(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    eraser = Intake(log, vault, clock=lambda: NOW)
    vault.before_next_store = lambda: eraser.handle(erase(), ERASE_KEY)

    accepted = await intake.handle(open_contact(personal=PERSONAL), KEY)

    (opened,) = [e for e in log.events if isinstance(e, ContactOpened)]
    assert accepted.type == "ContactOpened" and opened.personal is not None
    assert [type(e) for e in log.events] == [SubjectErased, ContactOpened]
    assert SUBJECT not in vault.records


async def test_personal_data_stored_by_a_consent_racing_an_erasure_is_erased_too(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    eraser = Intake(log, vault, clock=lambda: NOW)
    vault.before_next_store = lambda: eraser.handle(erase(), ERASE_KEY)

    with pytest.raises(Rejected):
        await intake.handle(give_consent(personal=PERSONAL), KEY)

    assert [type(e) for e in log.events] == [SubjectErased]
    assert SUBJECT not in vault.records


async def test_erasure_erases_the_vault_only_once_its_event_is_appended(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    await intake.handle(open_contact(personal=PERSONAL), KEY)
    log.fail("append")

    with pytest.raises(LogUnavailable):
        await intake.handle(erase(), ERASE_KEY)
    kept = dict(vault.records)
    await intake.handle(erase(), ERASE_KEY)

    assert list(kept) == [SUBJECT]  # not erased while the erasure was not recorded
    assert SUBJECT not in vault.records
    assert [type(e) for e in log.events] == [ContactOpened, SubjectErased]


async def test_an_erasure_whose_acknowledgement_was_lost_erases_the_vault_on_the_retry(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    await intake.handle(open_contact(personal=PERSONAL), KEY)
    log.lose_acks()

    with pytest.raises(LogUnavailable):
        await intake.handle(erase(), ERASE_KEY)
    retried = await intake.handle(erase(), ERASE_KEY)

    assert retried.replayed
    assert SUBJECT not in vault.records
    assert [type(e) for e in log.events] == [ContactOpened, SubjectErased]


async def test_a_retried_erasure_erases_again_what_reached_the_vault_since(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    await intake.handle(erase(), ERASE_KEY)
    await vault.store(SUBJECT, an_id("late-record"), PERSONAL)  # a racing request, stored late

    retried = await intake.handle(erase(), ERASE_KEY)

    assert retried.replayed
    assert SUBJECT not in vault.records
    assert len(log.events) == 1


# The log unavailable


async def test_a_log_that_cannot_be_read_is_unavailable_and_nothing_is_stored(
    intake: Intake, log: InMemoryEventLog, vault: InMemoryVault
) -> None:
    log.fail("history")

    with pytest.raises(LogUnavailable):
        await intake.handle(open_contact(personal=PERSONAL), KEY)

    assert log.messages == []
    assert vault.records == {}


async def test_an_append_that_times_out_is_unavailable_and_a_retry_appends_once(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.fail("append")

    with pytest.raises(LogUnavailable):
        await intake.handle(open_contact(), KEY)
    assert log.messages == []
    retried = await intake.handle(open_contact(), KEY)

    assert (retried.stream_sequence, retried.replayed) == (1, False)
    assert len(log.events) == 1


async def test_an_append_whose_acknowledgement_was_lost_is_replayed_on_the_retry(
    intake: Intake, log: InMemoryEventLog
) -> None:
    log.lose_acks()

    with pytest.raises(LogUnavailable):
        await intake.handle(open_contact(), KEY)
    retried = await intake.handle(open_contact(), KEY)

    assert (retried.stream_sequence, retried.replayed) == (1, True)
    assert len(log.events) == 1
