"""Every message JetStream acknowledged survives nats-server being killed right afterwards.

What this proves: with the shipped ``sync_interval: always`` a PubAck is sent only after
the message is in the stream's files, so a nats-server that dies by SIGKILL the instant
the last PubAck arrives (no shutdown, no flush, no snapshot) comes back with every
acknowledged message, at the sequence the PubAck named, with identical subject, headers
and bytes. It holds for a publisher that waits for each PubAck, for 200 publishes in
flight at once, and for a kill that lands in the middle of a burst of 1000 publishes
(whatever the store kept beyond the acknowledged messages must then be byte-identical to
something that was sent: a torn tail is cut, not served).

What it cannot prove: a SIGKILL is not a power cut. The kernel outlives the process, so
whatever nats-server had written but not yet fsynced is still in the OS page cache and
reaches the disk anyway: this test would pass without any fsync. Losing power (or the
kernel, or a disk that lies about flushing) is what ``sync_interval: always`` is for; that
needs a VM or a fault-injecting filesystem to show (as the Jepsen analysis of NATS 2.12.1
did). What is shown here is the process's half of the promise: an acknowledgement is
never a message held only in nats-server's memory.
"""

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable

import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from careledger.stack.nats_server import NatsServer
from tests.support.nats import connect
from tests.support.streams import StoredMessage, stored_messages

STREAM = "DURABILITY"
N = 2000
IN_FLIGHT = 200  # publishes awaited together in the concurrent phase

Sent = dict[str, tuple[str, bytes]]  # Nats-Msg-Id -> (subject, bytes)
Acked = dict[int, StoredMessage]  # stream sequence the PubAck named -> what was sent
Publisher = Callable[[JetStreamContext, Sent, Callable[[], None]], Awaitable[Acked]]


def messages(rng: random.Random) -> Sent:
    """Distinct messages: their own Nats-Msg-Id, 7 subjects, 1 B to 4 KiB of random bytes."""
    sent = {}
    for index in range(N):
        size = rng.choice((1, 17, 256, 1024, rng.randint(1, 4096)))
        sent[f"m-{index}"] = (f"durability.m.{index % 7}", os.urandom(size))
    return sent


async def publish(js: JetStreamContext, msg_id: str, subject: str, data: bytes) -> StoredMessage:
    ack = await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id}, timeout=5)
    assert ack.stream == STREAM and not ack.duplicate, ack
    return StoredMessage(ack.seq, subject, {"Nats-Msg-Id": msg_id}, data)


async def each_ack_awaited(js: JetStreamContext, sent: Sent, kill: Callable[[], None]) -> Acked:
    acked: Acked = {}
    for msg_id, (subject, data) in sent.items():
        stored = await publish(js, msg_id, subject, data)
        acked[stored.sequence] = stored
    kill()
    return acked


async def many_in_flight(js: JetStreamContext, sent: Sent, kill: Callable[[], None]) -> Acked:
    acked: Acked = {}
    items = list(sent.items())
    for start in range(0, len(items), IN_FLIGHT):
        batch = items[start : start + IN_FLIGHT]
        for stored in await asyncio.gather(*(publish(js, i, s, d) for i, (s, d) in batch)):
            acked[stored.sequence] = stored
    kill()
    return acked


async def killed_mid_flight(js: JetStreamContext, sent: Sent, kill: Callable[[], None]) -> Acked:
    """Half of N awaited in batches, then the other half sent in one burst: SIGKILL as the
    burst's first PubAck is read. How much of the burst the server had written by then
    varies (all of it, at times: nats-py may read every PubAck in one go before the kill);
    whatever it kept must be intact, and every PubAck the client did read must hold."""
    items = list(sent.items())
    acked = await many_in_flight(js, dict(items[: N // 2]), lambda: None)
    first = asyncio.Event()

    async def one(msg_id: str, subject: str, data: bytes) -> None:
        stored = await publish(js, msg_id, subject, data)
        acked[stored.sequence] = stored
        if not first.is_set():
            first.set()
            kill()

    tasks = [asyncio.create_task(one(i, s, d)) for i, (s, d) in items[N // 2 :]]
    # PubAcks sent before the kill are already in the socket: a second is plenty for them.
    # The rest will never be answered; nats-py would wait out its timeout, so cancel them.
    _, unanswered = await asyncio.wait(tasks, timeout=1.0)
    for task in unanswered:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert not any(isinstance(r, AssertionError) for r in results), results
    assert first.is_set()
    return acked


@pytest.mark.parametrize(
    ("publisher", "all_acked"),
    [(each_ack_awaited, True), (many_in_flight, True), (killed_mid_flight, False)],
    ids=["each-ack-awaited", f"{IN_FLIGHT}-in-flight", "killed-mid-flight"],
)
async def test_every_acknowledged_message_survives_a_sigkill_right_after_its_ack(
    nats_server: NatsServer, publisher: Publisher, all_acked: bool
) -> None:
    assert nats_server.sync_interval == "always"
    sent = messages(random.Random(N))
    nc = await connect(nats_server, allow_reconnect=False)  # the admin: it makes a stream
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(name=STREAM, subjects=["durability.>"], storage=StorageType.FILE)
    )
    started = time.monotonic()
    acked = await publisher(js, sent, nats_server.kill)  # SIGKILL by PID, nothing between
    elapsed = time.monotonic() - started
    assert nats_server.process is not None and nats_server.process.poll() is not None
    await nc.close()

    nats_server.start()  # same port, same store
    stored = {m.sequence: m for m in await stored_messages(nats_server, STREAM)}

    lost = sorted(set(acked) - set(stored))
    assert not lost, f"{len(lost)} acknowledged messages lost, the first at sequence {lost[0]}"
    changed = [seq for seq, sent_message in acked.items() if stored[seq] != sent_message]
    assert not changed, (
        f"sequence {changed[0]}: sent {acked[changed[0]]}, read {stored[changed[0]]}"
    )
    for message in stored.values():  # what survived unacknowledged is intact too
        msg_id = message.headers.get("Nats-Msg-Id", "")
        assert (message.subject, message.data) == sent.get(msg_id), message.sequence
    if all_acked:
        assert len(acked) == N and set(stored) == set(acked)
    print(
        f"\n{publisher.__name__}: {len(acked)} of {N} acknowledged in {elapsed:.2f}s, then "
        f"SIGKILL; after restart all {len(acked)} are back, and {len(stored) - len(acked)} "
        "unacknowledged ones intact"
    )
