"""The ledger's durable pull consumer on the event stream.

The DuckDB file is the source of truth for what has been applied, so the consumer is
(re)created from the ledger's own position: ``reset(position + 1)`` deletes and re-adds
the durable with ``deliver_policy=by_start_sequence``. That applies the consumer settings
on every start even when the durable existed (an existing durable silently keeps its old
config otherwise), and after a crash or a failed batch it replays exactly from the first
unapplied message instead of waiting ``ack_wait`` for redelivery. Anything delivered but
not yet applied (a prefetched batch included) is dropped with the old subscription.

Pulling is done by hand (nats-py's ``fetch`` spends a task, a uuid and a ``wait_for`` per
message): a pull request on ``$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`` whose
deliveries land, in stream order, in one buffer filled by a subscription callback
(``_Pulls``). ``fetch`` first asks with ``no_wait`` (what is there now, ended by a 404/408
status when less than a batch is), and if nothing came, long-polls once with ``expires``.
Before returning a batch it asks for the next one, so the server delivers it while the
caller commits this one; at most one request is open and the buffer plus that request
never exceed two batches. Acks are ack-all: acknowledging the last message of a committed
batch acknowledges it all, never a prefetched one.

Each delivery's reply subject carries its stream sequence and the instant the stream
stored it, by the server's clock: that instant, not the ``recorded_at`` a publisher wrote
in the event, is when the ledger says the event was recorded (``log_message``).
"""

import asyncio
import datetime as dt
import json
import logging
from contextlib import suppress

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import EVENT_STREAM, EVENT_SUBJECTS
from careledger.ledger.adapters.pulls import ConsumerGone, Pulls
from careledger.ledger.ingest.ingest import LogMessage
from careledger.ledger.ingest.runner import Delivery

log = logging.getLogger(__name__)
GRACE = 2.0  # seconds past a request's own end before it counts as lost (disconnect)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
V1_TOKENS, V2_TOKENS = 9, 11  # a JetStream reply subject without, and with, a domain

__all__ = ["ConsumerGone", "DeliveryGap", "LedgerAheadOfStream", "LedgerConsumer", "log_message"]


class LedgerAheadOfStream(RuntimeError):
    """The ledger holds sequences the stream does not: wrong server, or a recreated stream."""


class DeliveryGap(RuntimeError):
    """A batch did not start where the last one ended (messages lost in flight, e.g. a
    dropped connection): acking it would ack the missing ones too, so it is refused."""


class LedgerConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        durable: str = "ledger",
        stream: str = EVENT_STREAM,
        batch: int = 5000,
        fetch_timeout: float = 0.5,
        ack_wait: float = 60.0,
    ) -> None:
        self.js = js
        self.durable = durable
        self.stream = stream
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self._nc: Client = js._nc
        self._sub: Subscription | None = None
        self._pulls: Pulls | None = None
        self._next = 1  # the stream sequence the next batch must start with

    async def reset(self, start_sequence: int) -> None:
        """Deliver from ``start_sequence`` on, whatever the durable remembered."""
        state = (await self.js.stream_info(self.stream)).state
        last = state.last_seq
        if start_sequence - 1 > last:
            raise LedgerAheadOfStream(
                f"the ledger holds up to sequence {start_sequence - 1} but stream "
                f"{self.stream} ends at {last}: is this the right NATS server?"
            )
        await self.close()
        with suppress(NotFoundError):
            await self.js.delete_consumer(self.stream, self.durable)
        await self.js.add_consumer(self.stream, self._config(start_sequence))
        inbox = self._nc.new_inbox()
        pulls = Pulls(inbox, self.batch)
        self._sub = await self._nc.subscribe(
            f"{inbox}.*", cb=pulls.on_message, pending_msgs_limit=self.batch * 4 + 64
        )
        self._pulls = pulls
        self._next = max(start_sequence, state.first_seq or 1)  # retention may have begun later
        log.info("consumer %s delivers from sequence %d", self.durable, self._next)

    def _config(self, start_sequence: int) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(start_sequence, 1),
            ack_policy=AckPolicy.ALL,
            ack_wait=self.ack_wait,
            max_ack_pending=self.batch * 4,  # a batch in commit, one prefetched, and slack
            max_deliver=-1,
            filter_subject=EVENT_SUBJECTS,
        )

    async def close(self) -> None:
        """Unsubscribe and forget what was delivered but not returned; keep the durable."""
        self._pulls = None
        if self._sub is not None:
            with suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def fetch(self) -> Delivery:
        """Up to ``batch`` messages in stream order; none if none came within the timeout."""
        msgs = await self._fetch()
        return Delivery([log_message(m) for m in msgs], msgs[-1].ack if msgs else _nothing)

    async def _fetch(self) -> list[Msg]:
        pulls = self._pulls
        assert pulls is not None, "reset() first"
        if not pulls.open and pulls.buffered < self.batch:
            await self._request(pulls, self.batch - pulls.buffered, no_wait=True)
        await self._settle(pulls, self.batch)
        if not pulls.buffered:
            await self._request(pulls, self.batch, no_wait=False)
            await self._settle(pulls, 1)
        msgs = pulls.take(self.batch)
        if pulls.failed is not None:
            raise pulls.failed
        if msgs:
            self._require_next(msgs)
        if not msgs and pulls.refused:  # a 409: max ack pending reached, leadership change
            pulls.refused = False
            await asyncio.sleep(self.fetch_timeout)
        elif msgs and not pulls.open and pulls.buffered < self.batch:
            await self._request(pulls, self.batch, no_wait=True)  # prefetch the next batch
        return msgs

    def _require_next(self, msgs: list[Msg]) -> None:
        """The batch starts where the last one ended (``ingest`` checks within a batch)."""
        first, last = msgs[0].metadata.sequence.stream, msgs[-1].metadata.sequence.stream
        if first != self._next:
            raise DeliveryGap(f"expected stream sequence {self._next} first, got {first}")
        self._next = last + 1

    async def _request(self, pulls: Pulls, batch: int, *, no_wait: bool) -> None:
        body: dict[str, object] = {"batch": batch}
        if no_wait:
            body["no_wait"] = True  # without expires: the server answers at once
        else:
            body["expires"] = int(self.fetch_timeout * 1e9)
        reply = pulls.opened(batch, no_wait=no_wait)
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}"
        await self._nc.publish(subject, json.dumps(body).encode(), reply=reply)

    async def _settle(self, pulls: Pulls, enough: int) -> None:
        """Wait until ``enough`` messages are buffered or no request is open."""
        limit = (0.0 if pulls.no_wait else self.fetch_timeout) + GRACE
        try:
            await asyncio.wait_for(pulls.until(enough), limit)
        except TimeoutError:  # the request's end never came (reconnect): stop waiting on it
            log.warning("pull request on %s unanswered after %.1fs", self.durable, limit)
            pulls.abandon()

    async def pending(self) -> int:
        info = await self.js.consumer_info(self.stream, self.durable)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def _nothing() -> None:
    """Acknowledging an empty delivery."""


def log_message(msg: Msg) -> LogMessage:
    sequence, stored_at = stream_place(msg)
    return LogMessage(
        sequence=sequence,
        nats_subject=msg.subject,
        data=msg.data,
        headers=dict(msg.headers or {}),
        recorded_at=stored_at,
    )


def stream_place(msg: Msg) -> tuple[int, dt.datetime]:
    """The stream sequence and the instant the stream stored the message (the server's
    clock, UTC), from the JetStream reply subject. The instant is read as integer
    nanoseconds and cut to the microsecond, as DuckDB keeps it: nats-py's
    ``metadata.timestamp`` goes through a float and can come out a microsecond off.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>``, or with a
    domain and account hash first: ``$JS.ACK.<domain>.<hash>.<stream>...`` (then an
    optional random token)."""
    tokens = (msg.reply or "").split(".")
    if tokens[:2] == ["$JS", "ACK"] and len(tokens) == V1_TOKENS:
        sequence, ns = tokens[5], tokens[7]
    elif tokens[:2] == ["$JS", "ACK"] and len(tokens) >= V2_TOKENS:
        sequence, ns = tokens[7], tokens[9]
    else:
        raise ValueError(f"not a JetStream delivery: reply subject {msg.reply!r}")
    return int(sequence), EPOCH + dt.timedelta(microseconds=int(ns) // 1000)
