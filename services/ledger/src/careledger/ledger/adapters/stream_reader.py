"""Read the whole event stream in order (an ordered consumer), for verification."""

import datetime as dt
from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from careledger.contracts.subjects import EVENT_STREAM, EVENT_SUBJECTS
from careledger.ledger.adapters.consumer import stream_place


async def stream_messages(
    js: JetStreamContext,
    stream: str = EVENT_STREAM,
    idle_seconds: float = 5.0,
    until: int | None = None,
) -> AsyncIterator[tuple[int, bytes, dt.datetime]]:
    """(stream sequence, bytes, when the stream stored it) of every message up to ``until``
    (default: the last one)."""
    last = (await js.stream_info(stream)).state.last_seq
    if until is not None:
        last = min(last, until)
    if last == 0:
        return
    sub = await js.subscribe(
        EVENT_SUBJECTS, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        while True:
            msg = await sub.next_msg(timeout=idle_seconds)
            sequence, stored_at = stream_place(msg)
            yield sequence, msg.data, stored_at
            if sequence >= last:
                return
    finally:
        await sub.unsubscribe()
