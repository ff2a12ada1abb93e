"""The event log adapter against a real nats-server: histories read whole, appends checked."""

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client

from careledger.contracts.events import Event
from careledger.contracts.subjects import EVENT_STREAM
from careledger.intake.adapters.event_log import JetStreamEventLog
from careledger.intake.application.ports import ConcurrentWrite, History
from careledger.intake.domain import Context
from careledger.stack.nats_server import NatsServer
from tests.support.nats import connect
from tests.unit.intake.builders import NOW, OTHER_SUBJECT, SUBJECT, an_id, give_consent, when

LONG = 600  # more than two direct-get batches (256 each)


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    """Intake's connection to a server whose streams the admin provisioned."""
    client = await connect(nats_server, "intake")
    try:
        yield client
    finally:
        await client.close()


def consent_given(n: int, subject_id: str = SUBJECT) -> Event:
    ctx = Context(now=NOW, event_id=an_id(f"{subject_id}-{n}"), new_id=an_id(f"new-{n}"))
    (event,) = when(give_consent(subject_id=subject_id, consent_id=an_id(f"c-{n}")), ctx=ctx)
    return event


async def test_a_history_longer_than_one_batch_is_read_whole_and_in_order(nc: Client) -> None:
    log, last, other = JetStreamEventLog(nc), 0, 0
    for n in range(LONG):
        last = (await log.append(consent_given(n), last)).sequence
        if n % 100 == 0:  # another aggregate's events interleave on the stream
            other = (await log.append(consent_given(n, OTHER_SUBJECT), other)).sequence
    await nc.jetstream().publish(f"careledger.events.subject.{SUBJECT}", b"{}", stream=EVENT_STREAM)

    history = await log.history("subject", SUBJECT)

    assert [r.event.event_id for r in history.events] == [
        an_id(f"{SUBJECT}-{n}") for n in range(LONG)
    ]
    assert all(r.event.subject_id == SUBJECT for r in history.events)
    assert history.last_sequence == last + 1  # the invalid message counts for concurrency


async def test_an_append_behind_the_last_sequence_is_a_concurrent_write(nc: Client) -> None:
    log = JetStreamEventLog(nc)
    await log.append(consent_given(1), 0)

    with pytest.raises(ConcurrentWrite):
        await log.append(consent_given(2), 0)

    assert len((await log.history("subject", SUBJECT)).events) == 1


class StaleReplica(JetStreamEventLog):
    """Direct gets answered by a follower that has not caught up: the last event missing."""

    async def _direct_history(self, subject: str) -> History:
        found = await super()._direct_history(subject)
        stale = found.events[:-1]
        return History(stale, stale[-1].sequence if stale else 0)


async def test_a_history_a_stale_replica_answered_is_read_again_from_the_leader(
    nc: Client,
) -> None:
    writer, last = JetStreamEventLog(nc), 0
    for n in range(3):
        last = (await writer.append(consent_given(n), last)).sequence

    trusting = await StaleReplica(nc).history("subject", SUBJECT)
    checked = await StaleReplica(nc, replicated=True).history("subject", SUBJECT)

    assert (len(trusting.events), trusting.last_sequence) == (2, last - 1)  # what went wrong
    assert [r.event.event_id for r in checked.events] == [an_id(f"{SUBJECT}-{n}") for n in range(3)]
    assert checked.last_sequence == last


async def test_a_leader_check_of_an_aggregate_never_written_finds_nothing(nc: Client) -> None:
    history = await JetStreamEventLog(nc, replicated=True).history("subject", OTHER_SUBJECT)

    assert (history.events, history.last_sequence) == ((), 0)
