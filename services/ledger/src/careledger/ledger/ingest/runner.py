"""The ledger's loop: fetch a batch, dead-letter what is invalid, commit, then ack.

Two batches are in hand at a time: while one commits (in a thread), the next is fetched
and ingested (decoded, checked, hashed; in another) against the store as that commit will
leave it (``Committing``); the two overlap where DuckDB lets go of the GIL. Only a
committed batch is acked, and only after it is committed.

A crash before commit replays the batch; a crash after commit and before ack redelivers
messages the ledger already holds, which ``ingest`` skips by sequence. Any failure while
applying rolls back, and the consumer is reset to the first unapplied sequence (a batch
ingested ahead is dropped with it).

Until a batch is applied again the ledger is not ready, and ``Health.last_error`` says why
in one line. A disk that refuses writes (full, or over a size limit) fails the commit, so
nothing is acked; a checkpoint that fails makes DuckDB invalidate the database, which only
a new connection recovers: the runner opens the file again once it can.
"""

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol

from careledger.ledger.domain.note import Signer
from careledger.ledger.domain.signed import Signed
from careledger.ledger.ingest.ingest import (
    Committing,
    LogMessage,
    Outcome,
    Position,
    Rejection,
    Store,
    ingest,
)

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 30.0  # seconds between checkpoints while idle


@dataclass(frozen=True)
class Delivery:
    """A batch as the consumer delivered it, in stream order, and how to acknowledge it
    (every message up to its last)."""

    messages: list[LogMessage]
    ack: Callable[[], Awaitable[None]]


class Consumer(Protocol):
    async def reset(self, start_sequence: int) -> None: ...
    async def fetch(self) -> Delivery: ...
    async def close(self) -> None: ...


class Ledger(Store, Protocol):
    """The ledger's file as the runner uses it: where it stands, and a batch committed."""

    def position(self) -> Position: ...
    def commit(self, outcome: Outcome, previous: Position) -> None: ...
    def checkpoint(self) -> None: ...
    def reopen(self) -> None: ...
    def sign_checkpoint(self, signer: Signer, now: dt.datetime) -> Signed | None: ...


@dataclass(frozen=True)
class Signing:
    """Signed checkpoints: by whom, how often at most while the tree grows (seconds), and
    where each is published once kept (``publish`` may fail: it is tried again)."""

    signer: Signer
    every: float
    publish: Callable[[Signed], Awaitable[None]]


class DeadLetterSink(Protocol):
    async def publish(self, rejections: list[Rejection]) -> None: ...


@dataclass(frozen=True)
class Ingested:
    """A fetched batch and what ingesting it gave, not yet committed."""

    delivery: Delivery
    outcome: Outcome


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
        self,
        store: Ledger,
        consumer: Consumer,
        dead_letters: DeadLetterSink,
        *,
        checkpoint_every: float = CHECKPOINT_EVERY,
        signing: Signing | None = None,
    ) -> None:
        self.store = store
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.checkpoint_every = checkpoint_every
        self.health = Health()
        self.position = Position()
        self._checkpointed = time.monotonic()
        self._broken = False  # a failure happened: recover before the next batch
        self._ahead: Ingested | None = None  # the next batch, ingested while one committed
        self.signing = signing
        self._signed = time.monotonic()
        self._unpublished: list[Signed] = []  # kept in the file, not yet on the stream
        self._asked: list[asyncio.Future[None]] = []  # callers waiting for a checkpoint

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self.store.position)
        await self.consumer.reset(self.position.sequence + 1)
        self.health.applying = True

    async def run(self, stop: asyncio.Event) -> None:
        # Starting is recovering from nothing (position, then consumer), inside the loop: a
        # server not there yet, or a ledger ahead of the stream, is retried and reported by
        # readiness, not a task that dies.
        self._broken = True
        delay = 0.5
        while not stop.is_set():
            try:
                if self._broken:
                    await self._recover()
                await self.step()
                delay = 0.5
            except Exception as exc:
                self._failed(exc)
                with suppress(TimeoutError):  # back off, but stop at once when asked
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 10.0)
        await self.consumer.close()

    async def step(self) -> int:
        """Commit one batch and ack it, ingesting the next one meanwhile; returns how many
        messages the committed batch held."""
        batch, self._ahead = self._ahead, None
        if batch is None:
            batch = await self._ingest_next(self.position, self.store)
        if batch is None:
            self.health.applying = True  # caught up, and fetching works
            await self._sign_when_due()
            await self._checkpoint_when_idle()
            return 0
        await self.dead_letters.publish(batch.outcome.rejected)
        landing = asyncio.create_task(self._land(batch))
        try:
            ahead = await self._ingest_next(
                batch.outcome.position, Committing(self.store, batch.outcome)
            )
        finally:
            await landing  # a failed commit raises here, and the batch ahead is dropped
        self._ahead = ahead
        await self._sign_when_due()
        return len(batch.delivery.messages)

    async def checkpoint_now(self) -> None:
        """Have a checkpoint signed of everything committed so far (the caller bounds the
        wait: the loop signs only while it is applying and signing)."""
        waiter = asyncio.get_running_loop().create_future()
        self._asked.append(waiter)
        await waiter

    def sign_from_now(self, signing: Signing, unpublished: list[Signed]) -> None:
        """Start signing (once the ledger trusts its file), publishing first the kept
        checkpoints the stream lacks."""
        self._unpublished = list(unpublished)
        self.signing = signing

    async def _sign_when_due(self) -> None:
        """Sign a checkpoint when asked, or when ``every`` has passed and the tree grew;
        then publish, in order, what is kept and not yet published."""
        signing = self.signing
        if signing is None:
            return
        now = time.monotonic()
        asked, self._asked = self._asked, []
        if asked or now - self._signed >= signing.every:
            self._signed = now
            signed = await asyncio.to_thread(
                self.store.sign_checkpoint, signing.signer, dt.datetime.now(dt.UTC)
            )
            if signed is not None:
                self._unpublished.append(signed)
        for waiter in asked:
            if not waiter.done():
                waiter.set_result(None)
        while self._unpublished:
            try:
                await signing.publish(self._unpublished[0])
            except Exception as exc:  # kept in the file: published on a later step
                log.warning("checkpoint not published yet: %s", reason(exc))
                return
            self._unpublished.pop(0)

    async def _ingest_next(self, position: Position, store: Store) -> Ingested | None:
        delivery = await self.consumer.fetch()
        if not delivery.messages:
            return None
        outcome = await asyncio.to_thread(ingest, delivery.messages, position, store)
        return Ingested(delivery, outcome)

    async def _land(self, batch: Ingested) -> None:
        """Commit, then ack (ack-all: everything up to the batch's last message)."""
        outcome = batch.outcome
        await asyncio.to_thread(self.store.commit, outcome, self.position)
        self.position = outcome.position
        await batch.delivery.ack()
        self.health = Health(
            applying=True,
            batches=self.health.batches + 1,
            events=self.health.events + len(outcome.applied),
            rejected=self.health.rejected + len(outcome.rejected),
        )

    def _failed(self, exc: Exception) -> None:
        self._broken = True
        self.health.applying = False
        self.health.last_error = reason(exc)
        log.warning(
            "batch not applied, nothing acknowledged: %s", self.health.last_error, exc_info=exc
        )

    async def _checkpoint_when_idle(self) -> None:
        """Fold the WAL into the file while nothing arrives, so a restart after a crash
        replays little (the large checkpoint threshold otherwise defers it to shutdown)."""
        now = time.monotonic()
        if now - self._checkpointed > self.checkpoint_every:
            self._checkpointed = now
            await asyncio.to_thread(self.store.checkpoint)

    async def _recover(self) -> None:
        """Re-read the position (opening the file again if DuckDB gave up on it) and replay
        from the first unapplied sequence. Readiness returns with the next good batch."""
        self._ahead = None  # delivered by the subscription the reset drops
        try:
            self.position = await asyncio.to_thread(self.store.position)
        except Exception as exc:
            log.warning("the ledger's database cannot be read (%s): opening it again", reason(exc))
            await asyncio.to_thread(self.store.reopen)
            self.position = await asyncio.to_thread(self.store.position)
        await self.consumer.reset(self.position.sequence + 1)
        self._broken = False


_PREFIX = re.compile(r"^(?:[A-Za-z]+(?: [A-Za-z]+)? Error: |Failed to commit: |Failed: )+")
# DuckDB's words for a database it gave up on, and ours for the operator.
_INVALIDATED = (
    (
        re.compile(r"^Checkpoint failed for database .*?Original error: (.*)$", re.S),
        "checkpoint failed, database invalidated, reopening it: ",
    ),
    (
        re.compile(
            r"has been invalidated because checkpointing failed.*?Original error: (.*)$", re.S
        ),
        "database invalidated by a failed checkpoint, reopening it: ",
    ),
    (
        re.compile(r"database has been invalidated.*?Original error: \"?(.*?)\"?$", re.S),
        "database invalidated by an earlier failure, reopening it: ",
    ),
)


def reason(exc: BaseException) -> str:
    """The failure in one line for operators: the original error (not the rollback that
    followed it), without DuckDB's nested prefixes, e.g. ``Could not write file
    "/var/ledger.duckdb.wal": No space left on device``."""
    root = exc
    for _ in range(10):  # a chain, not a cycle: stop somewhere
        inner = root.__cause__ or root.__context__
        if inner is None:
            break
        root = inner
    text = " ".join(str(root).split())
    if not text:
        return type(root).__name__
    text = _PREFIX.sub("", text)
    for pattern, words in _INVALIDATED:
        if invalidated := pattern.search(text):
            text = words + invalidated.group(1)
            break
    return f"{text} ({type(root).__name__})"
