"""SIGKILL the ledger again and again while events flow: nothing lost, nothing doubled."""

import asyncio
import os
from pathlib import Path

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.adapters.stream_reader import stream_messages
from careledger.ledger.deadlines import load_policy
from careledger.ledger.queries.verify import verify
from careledger.stack.nats_server import NatsServer
from tests.support.events import contact_pair, publication
from tests.support.ledger_process import LedgerProcess
from tests.support.nats import connect

PAIRS = 1500
KILLS = 5


async def test_a_ledger_killed_mid_batch_recovers_to_exactly_the_stream(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    sender, nc = await connect(nats_server, "publisher"), await connect(nats_server)
    js = nc.jetstream()  # the admin's, to look at the stream
    os.environ.setdefault("CARELEDGER_LEDGER_BATCH", "200")
    ledger = LedgerProcess(nats_server.access("ledger"), tmp_path / "ledger.duckdb").start()
    published: list[str] = []

    async def publish() -> None:
        for _ in range(PAIRS):
            for event in contact_pair():
                subject, data, headers = publication(event)
                await sender.jetstream().publish(subject, data, headers=headers)
                published.append(event.event_id)

    async def kill_repeatedly() -> int:
        kills = 0
        while kills < KILLS:
            await asyncio.sleep(0.4)
            ledger.kill()
            kills += 1
            await asyncio.to_thread(ledger.start)
        return kills

    try:
        _, kills = await asyncio.gather(publish(), kill_repeatedly())
        last = (await js.stream_info("CARELEDGER_EVENTS")).state.last_seq
        await asyncio.to_thread(ledger.wait_caught_up, last)
    finally:
        ledger.stop()

    # The policy as the ledger process loaded it: from this process's environment.
    store = LedgerStore(tmp_path / "ledger.duckdb", load_policy())
    try:
        ids = [
            row[0]
            for row in store.con.execute("SELECT event_id FROM events ORDER BY sequence").fetchall()
        ]
        report = await verify(store.con, stream_messages(js), store.projections)
    finally:
        store.close()
        await nc.close()
        await sender.close()
    assert kills == KILLS
    assert len(ids) == len(set(ids)) == len(published) == 2 * PAIRS
    assert ids == published
    assert report.ok, report.problems
    assert report.stream_messages == report.events == 2 * PAIRS
