"""The ledger's durable pull consumer on the event stream.

The DuckDB file is the source of truth for what has been applied, so the consumer is
(re)created from the ledger's own position: ``reset(position + 1)`` deletes and re-adds
the durable with ``deliver_policy=by_start_sequence``. That applies the consumer settings
on every start even when the durable existed (an existing durable silently keeps its old
config otherwise), and after a crash or a failed batch it replays exactly from the first
unapplied message instead of waiting ``ack_wait`` for redelivery.

Acks are ack-all: acknowledging the last message of a committed batch acknowledges it all.
"""

import logging
from contextlib import suppress

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import EVENT_STREAM, EVENT_SUBJECTS
from careledger.ledger.application.ingest import LogMessage

log = logging.getLogger(__name__)


class LedgerAheadOfStream(RuntimeError):
    """The ledger holds sequences the stream does not: wrong server, or a recreated stream."""


class LedgerConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        durable: str = "ledger",
        stream: str = EVENT_STREAM,
        batch: int = 1000,
        fetch_timeout: float = 0.5,
        ack_wait: float = 60.0,
    ) -> None:
        self.js = js
        self.durable = durable
        self.stream = stream
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self._sub: JetStreamContext.PullSubscription | None = None

    async def reset(self, start_sequence: int) -> None:
        """Deliver from ``start_sequence`` on, whatever the durable remembered."""
        last = (await self.js.stream_info(self.stream)).state.last_seq
        if start_sequence - 1 > last:
            raise LedgerAheadOfStream(
                f"the ledger holds up to sequence {start_sequence - 1} but stream "
                f"{self.stream} ends at {last}: is this the right NATS server?"
            )
        await self.close()
        with suppress(NotFoundError):
            await self.js.delete_consumer(self.stream, self.durable)
        await self.js.add_consumer(self.stream, self._config(start_sequence))
        self._sub = await self.js.pull_subscribe_bind(self.durable, self.stream)
        log.info("consumer %s delivers from sequence %d", self.durable, start_sequence)

    def _config(self, start_sequence: int) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(start_sequence, 1),
            ack_policy=AckPolicy.ALL,
            ack_wait=self.ack_wait,
            max_ack_pending=self.batch * 4,
            max_deliver=-1,
            filter_subject=EVENT_SUBJECTS,
        )

    async def close(self) -> None:
        """Unsubscribe (a drain after a fetch timeout can stall otherwise); keep the durable."""
        if self._sub is not None:
            with suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def fetch(self) -> list[Msg]:
        assert self._sub is not None, "reset() first"
        try:
            return await self._sub.fetch(self.batch, timeout=self.fetch_timeout)
        except TimeoutError:  # nats.errors.TimeoutError, or asyncio's from inside nats-py
            return []

    async def pending(self) -> int:
        info = await self.js.consumer_info(self.stream, self.durable)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


def log_message(msg: Msg) -> LogMessage:
    return LogMessage(
        sequence=msg.metadata.sequence.stream,
        subject=msg.subject,
        data=msg.data,
        headers=dict(msg.headers or {}),
    )
