"""Read the whole event stream in order (an ordered consumer), for verification."""

from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from careledger.contracts.subjects import EVENT_STREAM, EVENT_SUBJECTS


async def stream_messages(
    js: JetStreamContext,
    stream: str = EVENT_STREAM,
    idle_seconds: float = 5.0,
    until: int | None = None,
) -> AsyncIterator[tuple[int, bytes]]:
    """(stream sequence, bytes) of every message up to ``until`` (default: the last one)."""
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
            sequence = msg.metadata.sequence.stream
            yield sequence, msg.data
            if sequence >= last:
                return
    finally:
        await sub.unsubscribe()
