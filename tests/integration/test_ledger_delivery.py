"""The ledger applies every message exactly once, whatever the log redelivers or holds."""

import hashlib
import json
from pathlib import Path

from careledger.contracts import encode
from careledger.contracts.subjects import DLQ_STREAM, MSG_ID
from careledger.stack.nats_server import NatsServer
from tests.integration.ledger_support import full_verify, ledger_bench
from tests.support.events import contact_pair, example, publication
from tests.support.streams import stored_messages


def counts(store) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    con = store.con
    return (
        con.execute("SELECT count(*) FROM events").fetchone()[0],
        con.execute("SELECT count(*) FROM contacts").fetchone()[0],
        con.execute("SELECT count(*) FROM timeline").fetchone()[0],
    )


async def test_a_batch_redelivered_after_commit_changes_nothing(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb", batch=8) as bench:
        last = await bench.publish([e for _ in range(10) for e in contact_pair()])
        await bench.apply_until(last)
        before, position = counts(bench.store), bench.store.position()

        await bench.consumer.reset(1)  # a stale durable delivers everything again
        for _ in range(5):
            await bench.runner.step()

        assert counts(bench.store) == before == (20, 10, 20)
        assert bench.store.position() == position
        assert (await full_verify(bench.store, bench.js)).ok


async def test_poison_messages_go_to_the_dead_letters_and_good_events_around_them_apply(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        good_before, good_after = contact_pair()
        duplicate = publication(good_before)
        await bench.publish([good_before])
        js = bench.publisher
        await js.publish("careledger.events.contact.garbage", b"\x00\xffnot json at all")
        await js.publish("careledger.events.contact.shape", json.dumps({"type": "Nope"}).encode())
        dangling = example("ComplaintEscalated")  # its complaint was never filed
        await js.publish(*publication(dangling)[:2])
        wrong_subject = example("ContactOpened")
        await js.publish("careledger.events.complaint.elsewhere", encode(wrong_subject))
        await js.publish(duplicate[0], duplicate[1], headers={MSG_ID: "another-msg-id"})
        last = await bench.publish([good_after])
        await bench.apply_until(last)

        rows = bench.store.con.execute(
            "SELECT sequence, rule FROM rejected ORDER BY sequence"
        ).fetchall()
        assert [rule for _, rule in rows] == [
            "contract:json",
            "contract:enum",
            "unknown_reference",
            "subject",
            "duplicate_event_id",
        ]
        assert counts(bench.store)[0] == 2
        dead = await stored_messages(nats_server, DLQ_STREAM)
        assert [int(m.headers["CareLedger-Original-Sequence"]) for m in dead] == [
            seq for seq, _ in rows
        ]
        assert all(m.headers["CareLedger-Reason"] for m in dead)
        assert dead[0].data == b"\x00\xffnot json at all"
        assert (await full_verify(bench.store, bench.js)).ok


async def test_one_changed_byte_in_a_stored_event_is_named_by_its_sequence(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        last = await bench.publish([e for _ in range(3) for e in contact_pair()])
        await bench.apply_until(last)
        payload = bench.store.con.execute(
            "SELECT payload FROM events WHERE sequence = 4"
        ).fetchone()[0]
        tampered = (
            payload.replace(b"closed", b"Closed", 1)
            if b"closed" in payload
            else (payload[:-2] + b" }")
        )
        bench.store.con.execute("UPDATE events SET payload = ? WHERE sequence = 4", [tampered])

        report = await full_verify(bench.store, bench.js)

        assert not report.ok
        assert report.problems[0].startswith("sequence 4:")


async def test_one_changed_register_row_is_found_by_comparing_with_a_rebuild(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        events = [e for _ in range(3) for e in contact_pair()]
        last = await bench.publish(events)
        await bench.apply_until(last)
        target = events[2].contact_id  # type: ignore[attr-defined]
        bench.store.con.execute(
            "UPDATE contacts SET outcome = 'abandoned' WHERE contact_id = ?", [target]
        )

        report = await full_verify(bench.store, bench.js)

        assert report.problems == [
            f"contacts row {{'contact_id': '{target}'}} differs from a rebuild from the events"
        ]


async def test_a_message_too_large_to_dead_letter_whole_still_ends_in_the_dlq_and_the_ledger(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "l.duckdb") as bench:
        huge = b"x" * (1024 * 1024 - 100)  # fits the stream, not with the reason added
        await bench.publisher.publish("careledger.events.contact.huge", huge)
        last = await bench.publish(contact_pair())
        await bench.apply_until(last)

        rejected = bench.store.con.execute(
            "SELECT sequence, payload_sha256 FROM rejected"
        ).fetchall()
        dead = await stored_messages(nats_server, DLQ_STREAM)
        assert rejected == [(1, hashlib.sha256(huge).hexdigest())]  # never the bytes themselves
        assert dead[0].headers["CareLedger-Payload-Omitted"].startswith(f"{len(huge)} bytes")
        assert counts(bench.store)[0] == 2
