"""``verify`` against the stream: what the stream's retention (max age) dropped is not
missing, but a message in the stream the ledger lacks, or other bytes, is named."""

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from careledger.ledger.queries.verify import Report, compare_with_stream, verify
from tests.unit.ledger.events import Ledger, an_id, contact_opened, stored_at


async def the_stream(
    messages: list[tuple[int, bytes, dt.datetime]],
) -> AsyncIterator[tuple[int, bytes, dt.datetime]]:
    for message in messages:
        yield message


def held(ledger: Ledger) -> list[tuple[int, bytes, dt.datetime]]:
    rows = ledger.store.con.execute(
        "SELECT sequence, payload, recorded_at FROM events ORDER BY sequence"
    ).fetchall()
    return [(s, bytes(p), r) for s, p, r in rows]


async def test_messages_the_stream_no_longer_retains_are_not_missing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        events = [contact_opened(contact_id=an_id(f"c{n}")) for n in range(5)]
        ledger.feed(*events)
        assert stored_at(events[0]) == held(ledger)[0][2]
        report = Report()
        await compare_with_stream(ledger.store.con, the_stream(held(ledger)[2:]), report)
        assert (report.ok, report.before_stream, report.stream_messages) == (True, 2, 3)

        gap = held(ledger)[2:3] + held(ledger)[4:]  # the stream skips 4: the ledger has it
        report = Report()
        await compare_with_stream(ledger.store.con, the_stream(gap), report)
        assert report.problems == ["sequence 4: in the ledger, not in the stream"]

        report = await verify(ledger.store.con, the_stream(held(ledger)), ledger.store.projections)
        assert report.ok and report.before_stream == 0, report.problems
    finally:
        ledger.close()
