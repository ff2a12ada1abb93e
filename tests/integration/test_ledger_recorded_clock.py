"""Against a real nats-server: the ledger records an event when the stream stored it, read
from its delivery, whatever ``recorded_at`` the publisher wrote."""

import datetime as dt
from pathlib import Path

import msgspec

from careledger.stack.nats_server import NatsServer
from tests.integration.ledger_support import full_verify, ledger_bench
from tests.support.events import contact_pair

FORGED = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


async def test_each_event_is_recorded_when_the_stream_stored_it_not_when_its_publisher_claims(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    opened, closed = contact_pair()
    backdated = msgspec.structs.replace(opened, recorded_at=FORGED)
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        last = await bench.publish([backdated, closed])
        after = dt.datetime.now(dt.UTC)
        await bench.apply_until(last)
        rows = bench.store.con.execute(
            "SELECT recorded_at, claimed_recorded_at, recorded_clock FROM events ORDER BY sequence"
        ).fetchall()

    [(first, first_claim, first_clock), (second, second_claim, second_clock)] = rows
    assert (first_claim, second_claim) == (FORGED, closed.recorded_at)
    assert (first_clock, second_clock) == ("server", "server")
    assert before <= first <= second <= after  # the server's clock, on this machine


async def test_verify_names_an_event_whose_recorded_instant_is_not_the_streams(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The chain covers the payload, not the stored instant: verify reads it from the stream."""
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        last = await bench.publish(contact_pair())
        await bench.apply_until(last)
        assert (await full_verify(bench.store, bench.js)).ok
        bench.store.con.execute(
            "UPDATE events SET recorded_at = recorded_at - INTERVAL 1 HOUR WHERE sequence = 2"
        )
        report = await full_verify(bench.store, bench.js)

    assert len(report.problems) == 1
    assert report.problems[0].startswith("sequence 2: recorded_at ")
    assert "is not when the stream stored it" in report.problems[0]
