"""A ledger file edited while the ledger was stopped: the ledger notices before it trusts
it, reports not ready naming what failed, and neither consumes nor serves registers.

Three forgeries, from the clumsy to the careful: an event's bytes changed after the last
checkpoint (the check at open finds it); an event's bytes changed before the checkpoint with
every chain hash after it recomputed and the position moved (the tree still holds the
original leaf: the background verify names the sequence); a leaf of the tree changed (the
stored tree no longer gives the root the checkpoint signed: the check at open)."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from careledger.ledger.domain.chain import link
from careledger.stack.nats_server import NatsServer
from tests.support.events import contact_pair, publication
from tests.support.ledger_process import LedgerProcess
from tests.support.nats import connect

PAIRS = 60  # 120 events


def answer(ledger: LedgerProcess, path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    assert ledger.principals is not None
    request = urllib.request.Request(
        ledger.url + path, headers=ledger.principals.auditor_headers(), method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as refused:
        body, status = refused.read(), refused.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"text": body.decode()}


def not_ready_saying(ledger: LedgerProcess, words: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, body = answer(ledger, "/readyz")
        if status == 503 and words in (body.get("last_error") or ""):
            return body
        time.sleep(0.2)
    raise AssertionError(f"not refused with {words!r}: {body}")


@pytest.fixture
async def stopped_ledger(nats_server: NatsServer, tmp_path: Path) -> Iterator[LedgerProcess]:
    """A ledger that applied 120 events, signed a checkpoint of the first 80, and stopped."""
    sender = await connect(nats_server, "publisher")
    ledger = LedgerProcess(nats_server.access("ledger"), tmp_path / "ledger.duckdb").start()
    try:
        for n in range(PAIRS):
            for event in contact_pair():
                subject, data, headers = publication(event)
                await sender.jetstream().publish(subject, data, headers=headers)
            if n == 39:
                ledger.wait_caught_up(80)
                assert answer(ledger, "/v1/ledger/checkpoint", "POST")[0] == 200
        ledger.wait_caught_up(2 * PAIRS)
    finally:
        ledger.stop()
        await sender.close()
    yield ledger
    ledger.stop()


def edited(db: Path, sequence: int, rehash: bool) -> None:
    """The event's payload with one character changed; with ``rehash``, its chain hash and
    every one after it recomputed and the position moved to the new head."""
    con = duckdb.connect(str(db))
    try:
        rows = con.execute(
            "SELECT sequence, payload, prev_hash FROM events WHERE sequence >= ? ORDER BY sequence",
            [sequence],
        ).fetchall()
        payload = bytes(rows[0][1]).replace(b'"ContactOpened"', b'"ContactOpened" ', 1)
        payload = payload if payload != bytes(rows[0][1]) else bytes(rows[0][1]) + b" "
        con.execute("UPDATE events SET payload = ? WHERE sequence = ?", [payload, sequence])
        if not rehash:
            return
        prev = bytes(rows[0][2])
        for n, (seq, data, _) in enumerate(rows):
            data = payload if n == 0 else bytes(data)
            new = link(prev, seq, data)
            con.execute(
                "UPDATE events SET prev_hash = ?, hash = ? WHERE sequence = ?", [prev, new, seq]
            )
            prev = new
        con.execute("UPDATE ledger_position SET hash = ?", [prev])
    finally:
        con.close()


def refuses_registers(ledger: LedgerProcess) -> str:
    status, body = answer(ledger, "/v1/registers/contacts")
    assert status == 503
    return str(body["errors"][0]["message"])


def test_an_event_edited_after_the_checkpoint_is_named_at_open(
    stopped_ledger: LedgerProcess,
) -> None:
    edited(stopped_ledger.db_path, 100, rehash=False)
    stopped_ledger.start()
    body = not_ready_saying(stopped_ledger, "sequence 100: stored bytes do not match their hash")
    assert body["checks"]["integrity"] is False
    assert "an operator must act" in refuses_registers(stopped_ledger)


def test_an_event_rewritten_before_the_checkpoint_with_its_chain_rehashed_is_named(
    stopped_ledger: LedgerProcess,
) -> None:
    edited(stopped_ledger.db_path, 30, rehash=True)
    stopped_ledger.start()
    not_ready_saying(
        stopped_ledger, "sequence 30: its leaf in the Merkle tree does not match the event"
    )
    status, integrity = answer(stopped_ledger, "/v1/ledger/integrity")
    assert status == 409 and integrity["state"] == "failed"
    assert any(
        "sequence 30: ledger bytes differ from the stream" in p for p in integrity["problems"]
    )
    refuses_registers(stopped_ledger)
    position = answer(stopped_ledger, "/v1/ledger/position")[1]
    assert position["applying"] is False  # it stopped consuming


def test_a_leaf_of_the_tree_changed_breaks_the_signed_root_at_open(
    stopped_ledger: LedgerProcess,
) -> None:
    con = duckdb.connect(str(stopped_ledger.db_path))
    con.execute("UPDATE tree_leaves SET hash = ? WHERE leaf_index = 50", [bytes(32)])
    con.close()
    stopped_ledger.start()
    not_ready_saying(stopped_ledger, "the stored tree's root at that size differs")
    not_ready_saying(stopped_ledger, "sequence 51: its leaf in the Merkle tree does not match")
    refuses_registers(stopped_ledger)


def test_an_untouched_file_opens_ready_and_verified(stopped_ledger: LedgerProcess) -> None:
    stopped_ledger.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, integrity = answer(stopped_ledger, "/v1/ledger/integrity")
        if integrity.get("state") == "ok":
            break
        time.sleep(0.2)
    assert (status, integrity["state"], integrity["problems"]) == (200, "ok", [])
    while time.monotonic() < deadline and answer(stopped_ledger, "/readyz")[0] != 200:
        time.sleep(0.2)
    assert answer(stopped_ledger, "/readyz")[0] == 200
    assert answer(stopped_ledger, "/v1/registers/contacts")[1]["total"] == PAIRS
