"""Helpers for ledger integration tests: publishing, an in-process runner connected as the
ledger's NATS user."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client
from nats.js import JetStreamContext

from careledger.contracts.events import Event
from careledger.ledger.adapters.consumer import LedgerConsumer
from careledger.ledger.adapters.dead_letters import DeadLetters
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.adapters.stream_reader import stream_messages
from careledger.ledger.ingest.runner import LedgerRunner
from careledger.ledger.queries.verify import Report, verify
from careledger.stack.nats_server import NatsServer
from tests.support.events import publication
from tests.support.nats import connect
from tests.support.policy import shipped_policy


@dataclass
class Bench:
    nc: Client  # the ledger's connection
    js: JetStreamContext  # the ledger's
    publisher: JetStreamContext  # a direct publisher's: what reaches the event stream
    store: LedgerStore
    runner: LedgerRunner
    consumer: LedgerConsumer

    async def publish(self, events: list[Event]) -> int:
        last = 0
        for event in events:
            subject, data, headers = publication(event)
            last = (await self.publisher.publish(subject, data, headers=headers)).seq
        return last

    async def apply_until(self, sequence: int, attempts: int = 50) -> None:
        for _ in range(attempts):
            if self.runner.position.sequence >= sequence:
                return
            await self.runner.step()
        raise AssertionError(f"stuck at {self.runner.position} before {sequence}")


@asynccontextmanager
async def ledger_bench(server: NatsServer, db: Path, batch: int = 1000) -> AsyncIterator[Bench]:
    """A store and a runner stepped by the test itself, as the ledger's NATS user, on a
    server whose streams the admin provisioned; events arrive as a publisher sends them."""
    nc, sender = await connect(server, "ledger"), await connect(server, "publisher")
    js = nc.jetstream()
    store = LedgerStore(db, shipped_policy())
    consumer = LedgerConsumer(js, batch=batch, fetch_timeout=0.2)
    runner = LedgerRunner(store, consumer, DeadLetters(js, max_payload=nc.max_payload))
    await runner.start()
    try:
        yield Bench(nc, js, sender.jetstream(), store, runner, consumer)
    finally:
        await consumer.close()
        store.close()
        await nc.close()
        await sender.close()


async def full_verify(store: LedgerStore, js: JetStreamContext) -> Report:
    return await verify(store.con, stream_messages(js), store.projections)
