"""Hand-made pull requests: which answers end a request, which make the next fetch reset
the consumer, and that no delivery is ever dropped on the way."""

import asyncio

import pytest
from nats.aio.msg import Msg

from careledger.ledger.adapters.pulls import ConsumerGone, Pulls

INBOX = "_INBOX.test"


def delivery(sequence: int) -> Msg:
    reply = f"$JS.ACK.CARELEDGER_EVENTS.ledger.1.{sequence}.{sequence}.0.0"
    return Msg(_client=None, subject="careledger.events.contact.c", reply=reply, data=b"{}")  # type: ignore[arg-type]


def status(code: str, description: str, subject: str) -> Msg:
    headers = {"Status": code, "Description": description}
    return Msg(_client=None, subject=subject, data=b"", headers=headers)  # type: ignore[arg-type]


async def test_a_request_ends_when_its_batch_has_come_without_any_status() -> None:
    pulls = Pulls(INBOX, batch=3)
    pulls.opened(3, no_wait=True)
    for sequence in (1, 2, 3):
        await pulls.on_message(delivery(sequence))
    assert pulls.open is None
    assert [m.reply.split(".")[5] for m in pulls.take(10)] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("code", "description"), [("404", "No Messages"), ("408", "Request Timeout")]
)
async def test_404_and_408_end_a_request_normally_keeping_what_came(
    code: str, description: str
) -> None:
    pulls = Pulls(INBOX, batch=5)
    reply = pulls.opened(5, no_wait=code == "404")
    await pulls.on_message(delivery(1))
    await pulls.on_message(status(code, description, reply))
    assert (pulls.open, pulls.refused, pulls.failed, pulls.buffered) == (None, False, None, 1)


async def test_a_409_for_max_ack_pending_or_a_leadership_change_only_backs_off() -> None:
    pulls = Pulls(INBOX, batch=5)
    for description in ("Exceeded MaxAckPending", "Leadership Change"):
        await pulls.on_message(status("409", description, pulls.opened(5, no_wait=True)))
        assert (pulls.open, pulls.refused, pulls.failed) == (None, True, None)


@pytest.mark.parametrize(
    ("code", "description"), [("409", "Consumer Deleted"), ("503", ""), ("400", "Bad Request")]
)
async def test_a_deleted_consumer_no_responders_or_a_bad_request_fail_the_next_fetch(
    code: str, description: str
) -> None:
    pulls = Pulls(INBOX, batch=5)
    await pulls.on_message(status(code, description, pulls.opened(5, no_wait=True)))
    assert pulls.open is None
    assert isinstance(pulls.failed, ConsumerGone if code != "400" else RuntimeError)


async def test_statuses_of_a_stale_request_and_heartbeats_change_nothing() -> None:
    pulls = Pulls(INBOX, batch=5)
    pulls.opened(5, no_wait=False)
    await pulls.on_message(status("408", "Request Timeout", f"{INBOX}.0"))
    await pulls.on_message(status("100", "Idle Heartbeat", f"{INBOX}.1"))
    assert pulls.open == f"{INBOX}.1"
    assert (pulls.refused, pulls.failed) == (False, None)


async def test_deliveries_after_a_request_was_abandoned_still_land_in_the_buffer() -> None:
    pulls = Pulls(INBOX, batch=5)
    pulls.opened(5, no_wait=False)
    pulls.abandon()
    await pulls.on_message(delivery(7))
    assert pulls.buffered == 1


async def test_waiting_ends_at_enough_messages_or_at_the_end_of_the_request() -> None:
    pulls = Pulls(INBOX, batch=5)
    reply = pulls.opened(5, no_wait=False)
    waiter = asyncio.ensure_future(pulls.until(2))
    await pulls.on_message(delivery(1))
    await asyncio.sleep(0)
    assert not waiter.done()
    await pulls.on_message(delivery(2))
    await asyncio.wait_for(waiter, 1)
    waiter = asyncio.ensure_future(pulls.until(5))
    await pulls.on_message(status("408", "Request Timeout", reply))
    await asyncio.wait_for(waiter, 1)
    assert pulls.buffered == 2
