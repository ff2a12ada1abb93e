"""Attacks that try to put personal data into the permanent log, where erasure can never
reach it: an unknown field at the top level, in ``personal`` or in ``actor``, and an e-mail
address in a free-text label. The ledger dead-letters each (with its rule) and its copy of
the log, its registers and its rejections hold no trace of the address."""

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from careledger.contracts import encode
from tests.unit.ledger.events import Ledger, consent_given, contact_opened, message

EMAIL = "maria.lopez@example.org"


def with_field(data: bytes, path: tuple[str, ...], value: Any) -> bytes:
    document = json.loads(data)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(document).encode()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    held = Ledger(tmp_path / "ledger.duckdb")
    try:
        yield held
    finally:
        held.close()


def forged(kind: str) -> tuple[Any, bytes]:
    if kind == "evidence.reference":
        event = consent_given()
        return event, with_field(encode(event), ("evidence", "reference"), EMAIL)
    event = contact_opened()
    path = {
        "top level": ("customer_email",),
        "personal": ("personal", "email"),
        "actor": ("actor", "email"),
    }[kind]
    data = encode(event)
    if path[0] == "personal" and json.loads(data).get("personal") is None:
        data = with_field(data, ("personal",), {"vault_key": "v1", "commitment": "0" * 64})
    return event, with_field(data, path, EMAIL)


RULES = {
    "top level": "contract:unknown_field",
    "personal": "contract:unknown_field",
    "actor": "contract:unknown_field",
    "evidence.reference": "contract:pattern",
}


@pytest.mark.parametrize("where", sorted(RULES))
def test_an_email_address_never_reaches_the_ledgers_file(ledger: Ledger, where: str) -> None:
    event, data = forged(where)
    assert EMAIL.encode() in data
    ledger.deliver([message(1, event, data)])
    rejected = ledger.rows("SELECT * FROM rejected")
    assert [r["rule"] for r in rejected] == [RULES[where]]
    assert rejected[0]["payload_sha256"] == hashlib.sha256(data).hexdigest()
    assert ledger.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]
    for table in ("events", "rejected", "timeline", "contacts", "consents"):
        assert EMAIL not in json.dumps(ledger.rows(f"SELECT * FROM {table}"), default=str)


def test_an_address_as_a_field_name_or_a_subject_is_left_out_of_the_rejection(
    ledger: Ledger,
) -> None:
    event = contact_opened()
    data = with_field(encode(event), (EMAIL,), 1)
    forged_subject = f"careledger.events.contact.{EMAIL}"
    ledger.deliver([dataclasses.replace(message(1, event, data), nats_subject=forged_subject)])
    rejected = ledger.rows("SELECT * FROM rejected")
    assert len(rejected) == 1
    assert EMAIL not in json.dumps(rejected, default=str)


def test_a_file_whose_rejections_kept_their_bytes_keeps_only_their_hash_once_opened(
    tmp_path: Path,
) -> None:
    """Before, a rejection kept the message's bytes for ever: opening the file replaces them
    with their SHA-256 and leaves addresses out of the subject and the reason."""
    from careledger.ledger.adapters.store import LedgerStore
    from tests.support.policy import shipped_policy

    path = tmp_path / "old.duckdb"
    LedgerStore(path, shipped_policy()).close()
    old = duckdb.connect(str(path))
    old.execute("ALTER TABLE rejected DROP COLUMN payload_sha256")
    old.execute("ALTER TABLE rejected ADD COLUMN payload BLOB")
    data = json.dumps({"customer_email": EMAIL}).encode()
    old.execute(
        "INSERT INTO rejected (sequence, subject, rule, reason, payload) VALUES (?, ?, ?, ?, ?)",
        [1, f"careledger.events.contact.{EMAIL}", "contract:unknown_field", EMAIL, data],
    )
    old.close()
    store = LedgerStore(path, shipped_policy())
    try:
        rows = store.con.execute("SELECT * FROM rejected").fetchall()
        names = [d[0] for d in store.con.description or []]
    finally:
        store.close()
    assert "payload" not in names
    assert (
        dict(zip(names, rows[0], strict=True))["payload_sha256"] == hashlib.sha256(data).hexdigest()
    )
    assert EMAIL not in json.dumps(rows, default=str)
