"""A delivery becomes a log message with the stream sequence and the instant the stream
stored it, both read from the JetStream reply subject, in either of its two forms."""

import datetime as dt

import pytest
from nats.aio.msg import Msg

from careledger.ledger.adapters.consumer import log_message

STORED_NS = 1_772_441_234_567_891_999  # 2026-03-02T08:47:14.567891999Z
STORED = dt.datetime(2026, 3, 2, 8, 47, 14, 567891, tzinfo=dt.UTC)  # cut to the microsecond
V1 = f"$JS.ACK.CARELEDGER_EVENTS.ledger.1.42.7.{STORED_NS}.3"
V2 = f"$JS.ACK._.ACCHASH.CARELEDGER_EVENTS.ledger.1.42.7.{STORED_NS}.3"
V2_TOKEN = f"{V2}.R4nd0m"
V2_DOMAIN = f"$JS.ACK.hub.ACCHASH.CARELEDGER_EVENTS.ledger.2.42.7.{STORED_NS}.0.R4nd0m"


def delivery(reply: str | None) -> Msg:
    return Msg(
        _client=None,  # type: ignore[arg-type]
        subject="careledger.events.contact.c",
        reply=reply or "",
        data=b"{}",
        headers={"Nats-Msg-Id": "e"},
    )


@pytest.mark.parametrize("reply", [V1, V2, V2_TOKEN, V2_DOMAIN])
def test_the_sequence_and_the_stored_instant_come_from_either_form_of_the_reply_subject(
    reply: str,
) -> None:
    message = log_message(delivery(reply))
    assert (message.sequence, message.recorded_at) == (42, STORED)
    assert (message.nats_subject, message.data, message.headers) == (
        "careledger.events.contact.c",
        b"{}",
        {"Nats-Msg-Id": "e"},
    )


@pytest.mark.parametrize("reply", [V1, V2_DOMAIN])
def test_the_sequence_and_the_instant_agree_with_nats_py_to_the_microsecond(reply: str) -> None:
    msg = delivery(reply)
    message = log_message(msg)
    assert message.sequence == msg.metadata.sequence.stream
    assert abs(message.recorded_at - msg.metadata.timestamp) <= dt.timedelta(microseconds=1)


NOT_DELIVERIES = [
    None,
    "_INBOX.abc.1",  # a core NATS message
    "$JS.ACK.CARELEDGER_EVENTS.ledger.1.42",  # cut short
    "$JS.API.X.1.2.3.4.5.6",  # nine tokens, but no ack
]


@pytest.mark.parametrize("reply", NOT_DELIVERIES)
def test_a_message_that_is_no_jetstream_delivery_is_refused(reply: str | None) -> None:
    with pytest.raises(ValueError, match="not a JetStream delivery"):
        log_message(delivery(reply))
