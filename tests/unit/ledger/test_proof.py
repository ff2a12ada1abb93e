"""A subject's proof bundle holds their events with the exact bytes and chain links, and a
third party's check (``check_bundle``) passes it and names any item that was altered."""

import base64
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from careledger.ledger.domain.chain import link
from careledger.ledger.queries.proof import check_bundle, proof_bundle
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    complaint_filed,
    consent_given,
    contact_opened,
    subject_erased,
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "proof.duckdb")
    ledger.feed(contact_opened(at(0)), complaint_filed(at(1)))
    ledger.feed(
        contact_opened(at(2), contact_id=an_id("proof-other"), subject_id=OTHER_SUBJECT),
        consent_given(at(3)),
        subject_erased(at(4)),
    )
    yield ledger
    ledger.close()


@pytest.fixture
def bundle(ledger: Ledger) -> dict[str, Any]:
    return proof_bundle(ledger.store.con, SUBJECT)


def test_the_bundle_holds_exactly_the_subjects_events_in_log_order(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    events = ledger.rows(
        f"SELECT sequence, event_id, payload, prev_hash, hash FROM events "
        f"WHERE subject_id = '{SUBJECT}' ORDER BY sequence"
    )
    assert [(i["sequence"], i["event_id"]) for i in bundle["items"]] == [
        (e["sequence"], e["event_id"]) for e in events
    ]
    assert [base64.b64decode(i["payload_base64"]) for i in bundle["items"]] == [
        bytes(e["payload"]) for e in events
    ]
    assert [(i["prev_hash"], i["hash"]) for i in bundle["items"]] == [
        (bytes(e["prev_hash"]).hex(), bytes(e["hash"]).hex()) for e in events
    ]
    assert [i["sequence"] for i in bundle["items"]] == [1, 2, 4, 5]
    assert bundle["ledger_head"] == {"sequence": 5, "hash": bundle["items"][-1]["hash"]}


def test_an_erased_subject_keeps_every_event_and_the_bundle_shows_the_erasure(
    bundle: dict[str, Any],
) -> None:
    assert bundle["erased"]["sequence"] == 5
    assert bundle["items"][-1]["type"] == "SubjectErased"


def test_a_third_party_check_passes_an_untouched_bundle(bundle: dict[str, Any]) -> None:
    item = bundle["items"][2]
    payload = base64.b64decode(item["payload_base64"])
    assert check_bundle(bundle) == []
    assert link(bytes.fromhex(item["prev_hash"]), item["sequence"], payload).hex() == item["hash"]


def flipped(text: str, at_: int) -> str:
    return text[:at_] + ("0" if text[at_] != "0" else "1") + text[at_ + 1 :]


def test_one_flipped_payload_byte_fails_the_check_naming_the_item(
    bundle: dict[str, Any],
) -> None:
    forged = copy.deepcopy(bundle)
    payload = bytearray(base64.b64decode(forged["items"][1]["payload_base64"]))
    payload[-3] ^= 0x01
    forged["items"][1]["payload_base64"] = base64.b64encode(bytes(payload)).decode()
    problems = check_bundle(forged)
    assert problems and all(p.startswith("item 1 (sequence 2)") for p in problems)


def test_one_flipped_hash_digit_fails_the_check_naming_the_item(bundle: dict[str, Any]) -> None:
    forged = copy.deepcopy(bundle)
    forged["items"][0]["hash"] = flipped(forged["items"][0]["hash"], 10)
    problems = check_bundle(forged)
    assert "item 0 (sequence 1): hash does not match prev_hash, sequence and payload" in problems
    assert "item 1 (sequence 2): prev_hash is not the hash of the item before" in problems


def test_another_subjects_event_slipped_in_fails_the_check(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    other = proof_bundle(ledger.store.con, OTHER_SUBJECT)["items"][0]
    forged = copy.deepcopy(bundle)
    forged["items"].insert(2, other)
    problems = check_bundle(forged)
    assert f"item 2 (sequence 3): payload subject_id is not {SUBJECT!r}" in problems


@pytest.mark.parametrize(
    ("spoil", "named"),
    [
        (lambda b: b.update(items=5), "items is not a list"),
        (lambda b: b["items"][0].update(sequence="5"), "item 0: not an object with an integer"),
        (lambda b: b["items"][1].update(sequence=None), "item 1: not an object with an integer"),
        (lambda b: b.update(ledger_head=[1, 2]), "ledger_head is not"),
        (lambda b: b["ledger_head"].update(hash="00"), "ledger_head is not"),
        (lambda b: b.update(erased=None), "erased does not agree"),
        (
            lambda b: b.update(items=[i for i in b["items"] if i["type"] != "SubjectErased"]),
            "erased does not agree",
        ),
    ],
)
def test_a_malformed_or_inconsistent_bundle_is_reported_never_raised(
    bundle: dict[str, Any], spoil: Any, named: str
) -> None:
    assert bundle["erased"] is not None  # the fixture's subject was erased
    forged = copy.deepcopy(bundle)
    spoil(forged)

    problems = check_bundle(forged)

    assert any(named in p for p in problems), problems
