"""The ledger's hand-made pull loop against a real nats-server: the next batch is asked for
before the current one commits, yet a failed batch never loses or skips what was prefetched."""

import asyncio
import time
from pathlib import Path

import pytest

from careledger.ledger.adapters.consumer import ConsumerGone, DeliveryGap
from careledger.stack.nats_server import NatsServer
from tests.integration.ledger_support import full_verify, ledger_bench
from tests.support.events import contact_pair


async def settled_pending(bench) -> int:  # type: ignore[no-untyped-def]
    """What the server still waits to see acknowledged, once the last ack has landed."""
    await bench.nc.flush()
    for _ in range(20):
        if (pending := await bench.consumer.pending()) == 0:
            break
        await asyncio.sleep(0.05)
    return pending


def sequences(store) -> list[int]:  # type: ignore[no-untyped-def]
    rows = store.con.execute("SELECT sequence FROM events ORDER BY sequence").fetchall()
    return [row[0] for row in rows]


async def test_a_failed_batch_with_the_next_one_prefetched_is_redelivered_not_skipped(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb", batch=4) as bench:
        last = await bench.publish([e for _ in range(8) for e in contact_pair()])  # 16
        assert await bench.runner.step() == 4
        pulls = bench.consumer._pulls
        assert pulls is not None
        for _ in range(50):  # the next batch was asked for before this one committed
            if pulls.buffered == 4:
                break
            await asyncio.sleep(0.02)
        assert pulls.buffered == 4

        commit = bench.store.commit
        monkeypatch.setattr(bench.store, "commit", lambda *a: (_ for _ in ()).throw(OSError))
        with pytest.raises(OSError):
            await bench.runner.step()  # sequences 5-8 fail; 9-12 are prefetched meanwhile
        monkeypatch.setattr(bench.store, "commit", commit)
        await bench.runner._recover()  # what run() does after a failure
        await bench.apply_until(last)

        assert sequences(bench.store) == list(range(1, last + 1))
        assert await settled_pending(bench) == 0
        assert (await full_verify(bench.store, bench.js)).ok


async def test_an_idle_fetch_returns_nothing_after_its_long_poll_and_then_what_arrives(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb", batch=100) as bench:
        started = time.monotonic()
        assert (
            await bench.consumer.fetch()
        ).messages == []  # no_wait: 404, then the long poll: 408
        assert time.monotonic() - started < bench.consumer.fetch_timeout + 1.5
        last = await bench.publish(contact_pair())
        await bench.apply_until(last)
        assert sequences(bench.store) == [1, 2]
        assert await settled_pending(bench) == 0


async def test_a_consumer_deleted_under_the_ledger_makes_it_reset_and_carry_on(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb", batch=4) as bench:
        first = await bench.publish(contact_pair())
        await bench.apply_until(first)
        await bench.js.delete_consumer(bench.consumer.stream, bench.consumer.durable)
        last = await bench.publish(contact_pair())
        with pytest.raises(ConsumerGone):  # 409 Consumer Deleted or 503: the runner resets
            for _ in range(3):
                await bench.runner.step()
        await bench.runner._recover()
        await bench.apply_until(last)
        assert sequences(bench.store) == [1, 2, 3, 4]


async def test_messages_lost_in_flight_to_a_fresh_ledger_are_refused_not_acked(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb", batch=4) as bench:
        last = await bench.publish([e for _ in range(4) for e in contact_pair()])  # 8
        consumer = bench.consumer
        pulls = consumer._pulls
        assert pulls is not None
        await consumer._request(pulls, 4, no_wait=True)
        await consumer._settle(pulls, 4)
        assert len(pulls.take(4)) == 4  # delivered, never handed over: a dropped connection

        with pytest.raises(DeliveryGap, match="expected stream sequence 1 first, got 5"):
            await bench.runner.step()  # acking 5-8 would have acked 1-4 with them
        await bench.runner._recover()
        await bench.apply_until(last)

        assert sequences(bench.store) == list(range(1, last + 1))
        assert (await full_verify(bench.store, bench.js)).ok
