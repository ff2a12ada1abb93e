"""The ledger's loop: fetch a batch, dead-letter what is invalid, commit, then ack.

A crash before commit replays the batch; a crash after commit and before ack redelivers
messages the ledger already holds, which ``ingest`` skips by sequence. Any failure while
applying rolls back, and the consumer is reset to the first unapplied sequence.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from nats.aio.msg import Msg

from careledger.ledger.adapters.consumer import log_message
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.application.ingest import Position, Rejection, ingest

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 30.0  # seconds between checkpoints while idle


class Consumer(Protocol):
    async def reset(self, start_sequence: int) -> None: ...
    async def fetch(self) -> list[Msg]: ...
    async def close(self) -> None: ...


class DeadLetterSink(Protocol):
    async def publish(self, rejections: list[Rejection]) -> None: ...


@dataclass
class Health:
    """What readiness reports: the last failure, if the ledger is not applying."""

    applying: bool = False
    last_error: str | None = None
    batches: int = 0
    events: int = 0
    rejected: int = 0


class LedgerRunner:
    def __init__(
        self, store: LedgerStore, consumer: Consumer, dead_letters: DeadLetterSink
    ) -> None:
        self.store = store
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.health = Health()
        self.position = Position()
        self._checkpointed = time.monotonic()

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self.store.position)
        await self.consumer.reset(self.position.sequence + 1)
        self.health.applying = True

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        delay = 0.5
        while not stop.is_set():
            try:
                await self.step()
                delay = 0.5
            except Exception as exc:
                self._failed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                await self._recover()
        await self.consumer.close()

    async def step(self) -> int:
        """Apply one batch; returns how many messages it held."""
        msgs = await self.consumer.fetch()
        if not msgs:
            self.health.applying = True  # caught up, and fetching works
            await self._checkpoint_when_idle()
            return 0
        previous = self.position
        outcome = await asyncio.to_thread(
            ingest, [log_message(m) for m in msgs], previous, self.store
        )
        await self.dead_letters.publish(outcome.rejected)
        await asyncio.to_thread(self.store.commit, outcome, previous)
        self.position = outcome.position
        await msgs[-1].ack()  # ack-all: everything up to here is committed
        self.health = Health(
            applying=True,
            batches=self.health.batches + 1,
            events=self.health.events + len(outcome.applied),
            rejected=self.health.rejected + len(outcome.rejected),
        )
        return len(msgs)

    def _failed(self, exc: Exception) -> None:
        log.warning("batch not applied, nothing acknowledged: %r", exc, exc_info=exc)
        self.health.applying = False
        self.health.last_error = repr(exc)

    async def _checkpoint_when_idle(self) -> None:
        """Fold the WAL into the file while nothing arrives, so a restart after a crash
        replays little (the large checkpoint threshold otherwise defers it to shutdown)."""
        now = time.monotonic()
        if now - self._checkpointed > CHECKPOINT_EVERY:
            self._checkpointed = now
            await asyncio.to_thread(self.store.checkpoint)

    async def _recover(self) -> None:
        try:
            self.position = await asyncio.to_thread(self.store.position)
            await self.consumer.reset(self.position.sequence + 1)
            self.health.applying = True
        except Exception as exc:
            self._failed(exc)
