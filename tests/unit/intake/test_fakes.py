"""The fakes keep the ports' promises as the JetStream adapters do, or the handler's tests
would prove nothing."""

import inspect

import pytest

from careledger.contracts import PersonalData
from careledger.contracts.events import Event
from careledger.intake.application.ports import (
    Appended,
    ConcurrentWrite,
    EventLog,
    LogUnavailable,
    Vault,
    VaultConflict,
)
from careledger.intake.domain import Context
from tests.unit.intake.builders import (
    NOW,
    OTHER_SUBJECT,
    PERSONAL,
    SUBJECT,
    an_id,
    give_consent,
    when,
)
from tests.unit.intake.fakes import InMemoryEventLog, InMemoryVault


def consent_given(n: int, subject_id: str = SUBJECT) -> Event:
    ctx = Context(now=NOW, event_id=an_id(f"{subject_id}-{n}"), new_id=an_id(f"new-{n}"))
    (event,) = when(give_consent(subject_id=subject_id, consent_id=an_id(f"c-{n}")), ctx=ctx)
    return event


def test_the_fakes_implement_the_ports_with_the_same_signatures() -> None:
    log: EventLog = InMemoryEventLog()  # mypy checks the structure
    vault: Vault = InMemoryVault()

    for port, fake in ((EventLog, log), (Vault, vault)):
        for name in ("history", "append") if port is EventLog else ("store", "holds", "erase"):
            port_method = inspect.signature(getattr(port, name))
            fake_method = inspect.signature(getattr(type(fake), name))
            assert fake_method == port_method, (port.__name__, name)
            assert inspect.iscoroutinefunction(getattr(fake, name)), name


async def test_sequences_run_across_the_stream_and_each_subject_keeps_its_last() -> None:
    log = InMemoryEventLog()

    first = await log.append(consent_given(1), 0)
    other = await log.append(consent_given(1, OTHER_SUBJECT), 0)
    second = await log.append(consent_given(2), first.sequence)

    assert (first, other, second) == (Appended(1, False), Appended(2, False), Appended(3, False))
    history = await log.history("subject", SUBJECT)
    assert [r.sequence for r in history.events] == [1, 3]
    assert history.last_sequence == 3
    assert (await log.history("subject", OTHER_SUBJECT)).last_sequence == 2


async def test_an_append_behind_the_subjects_last_sequence_is_a_concurrent_write() -> None:
    log = InMemoryEventLog()
    await log.append(consent_given(1), 0)

    with pytest.raises(ConcurrentWrite):
        await log.append(consent_given(2), 0)

    assert log.events == [consent_given(1)]


async def test_an_event_id_seen_before_is_a_duplicate_before_the_sequence_is_checked() -> None:
    log = InMemoryEventLog()
    await log.append(consent_given(1), 0)
    await log.append(consent_given(2), 1)

    again = await log.append(consent_given(1), 0)  # stale expectation, as after a lost PubAck

    assert again == Appended(sequence=1, duplicate=True)
    assert log.events == [consent_given(1), consent_given(2)]


async def test_a_concurrent_writer_lands_between_a_history_and_the_next_append() -> None:
    log = InMemoryEventLog()
    log.write_concurrently(consent_given(1))
    read = await log.history("subject", SUBJECT)

    with pytest.raises(ConcurrentWrite):
        await log.append(consent_given(2), read.last_sequence)
    reread = await log.history("subject", SUBJECT)
    appended = await log.append(consent_given(2), reread.last_sequence)

    assert appended == Appended(sequence=2, duplicate=False)
    assert log.events == [consent_given(1), consent_given(2)]


async def test_a_failing_call_times_out_n_times_storing_nothing_then_answers() -> None:
    log = InMemoryEventLog()
    log.fail("append", times=2)

    for _ in range(2):
        with pytest.raises(LogUnavailable):
            await log.append(consent_given(1), 0)
    assert log.events == []
    assert await log.append(consent_given(1), 0) == Appended(sequence=1, duplicate=False)


async def test_a_lost_ack_stores_the_event_and_still_reports_the_log_unavailable() -> None:
    log = InMemoryEventLog()
    log.lose_acks()

    with pytest.raises(LogUnavailable):
        await log.append(consent_given(1), 0)

    assert log.events == [consent_given(1)]
    assert await log.append(consent_given(1), 0) == Appended(sequence=1, duplicate=True)


async def test_a_message_that_is_no_event_still_counts_for_the_last_sequence() -> None:
    log = InMemoryEventLog()
    await log.append(consent_given(1), 0)
    log.append_invalid("subject", SUBJECT)

    history = await log.history("subject", SUBJECT)

    assert (len(history.events), history.last_sequence) == (1, 2)
    with pytest.raises(ConcurrentWrite):
        await log.append(consent_given(2), 1)


async def test_the_vault_stores_a_record_once_and_refuses_other_data_under_its_id() -> None:
    vault = InMemoryVault()
    ref = await vault.store(SUBJECT, "Record-1", PERSONAL)

    assert await vault.store(SUBJECT, "Record-1", PERSONAL) == ref
    with pytest.raises(VaultConflict):
        await vault.store(SUBJECT, "Record-1", PersonalData(name="someone else"))
    assert ref.vault_key == "record-1"
    assert vault.records == {SUBJECT: {"record-1": PERSONAL}}


async def test_erasing_removes_every_record_of_that_subject_only_and_counts_them() -> None:
    vault = InMemoryVault()
    for record in ("a", "b"):
        await vault.store(SUBJECT, record, PERSONAL)
    await vault.store(OTHER_SUBJECT, "c", PERSONAL)

    assert await vault.erase(SUBJECT) == 2
    assert await vault.erase(SUBJECT) == 0
    assert vault.records == {OTHER_SUBJECT: {"c": PERSONAL}}
