"""A subject's proof bundle (careledger-proof/2): their events with the exact bytes, chain
links, subject links and inclusion proofs against a signed checkpoint, and a signed
statement of which sequences the ledger holds about them. A third party's check
(``check_bundle``, with only the verifier key) passes it and names what was altered: an
edited item even with its hash recomputed, an item dropped in the middle or at the end,
a signature by another key."""

import base64
import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from careledger.ledger.domain.chain import link
from careledger.ledger.domain.note import (
    Signer,
    Verifier,
    generate_signer,
    signer_from_text,
    verifier_of,
)
from careledger.ledger.queries.bundle_check import FIRST_VERSION_WARNING, check_bundle
from careledger.ledger.queries.proof import proof_bundle
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

NOW = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
SECOND_VERSION_FIELDS = ("subject_prev", "leaf_index", "inclusion_path")


def a_signer(name: str = "careledger.test/ledger") -> Signer:
    return signer_from_text(generate_signer(name)[0])


SIGNER = a_signer()
KEY: Verifier = verifier_of(SIGNER)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "proof.duckdb")
    ledger.feed(contact_opened(at(0)), complaint_filed(at(1)))
    ledger.feed(
        contact_opened(at(2), contact_id=an_id("proof-other"), subject_id=OTHER_SUBJECT),
        consent_given(at(3)),
        subject_erased(at(4)),
    )
    ledger.store.sign_checkpoint(SIGNER, NOW)
    yield ledger
    ledger.close()


@pytest.fixture
def bundle(ledger: Ledger) -> dict[str, Any]:
    return proof_bundle(ledger.store.cursor(), SUBJECT, SIGNER)


def problems_of(bundle: dict[str, Any], key: Verifier = KEY) -> list[str]:
    return check_bundle(bundle, key).problems


def rehashed(bundle: dict[str, Any], n: int, payload: bytes) -> dict[str, Any]:
    """Item ``n`` with another payload and its chain hash recomputed, as a forger would."""
    forged = copy.deepcopy(bundle)
    item = forged["items"][n]
    item["payload_base64"] = base64.b64encode(payload).decode()
    item["hash"] = link(bytes.fromhex(item["prev_hash"]), item["sequence"], payload).hex()
    return forged


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
    assert [i["sequence"] for i in bundle["items"]] == [1, 2, 4, 5]
    assert [i["subject_prev"] for i in bundle["items"]] == [0, 1, 2, 4]
    assert [i["leaf_index"] for i in bundle["items"]] == [0, 1, 3, 4]
    assert bundle["checkpoint"].splitlines()[:2] == ["careledger.test/ledger", "5"]
    assert bundle["statement"].splitlines()[3:8] == ["sequences 4", "1", "2", "4", "5"]


def test_an_erased_subject_keeps_every_event_and_the_bundle_shows_the_erasure(
    bundle: dict[str, Any],
) -> None:
    assert bundle["erased"]["sequence"] == 5
    assert bundle["items"][-1]["type"] == "SubjectErased"


def test_a_third_party_check_passes_an_untouched_bundle(bundle: dict[str, Any]) -> None:
    checked = check_bundle(bundle, KEY)
    assert checked.ok and checked.warnings == []


def test_an_edited_item_with_its_hash_recomputed_is_not_in_the_signed_tree(
    bundle: dict[str, Any],
) -> None:
    event = json.loads(base64.b64decode(bundle["items"][-1]["payload_base64"]))
    event["occurred_at"] = "2020-01-01T00:00:00Z"  # erased long before it was
    forged = rehashed(bundle, -1, json.dumps(event).encode())
    assert problems_of(forged) == [
        "item 3 (sequence 5): not included at leaf 4 in the checkpoint's tree",
        "item 3 (sequence 5): occurred_at is not the payload's",
    ]


def test_a_dropped_last_item_contradicts_the_signed_statement(bundle: dict[str, Any]) -> None:
    forged = copy.deepcopy(bundle)
    forged["items"].pop()
    forged["erased"] = None
    assert problems_of(forged) == [
        "statement: the ledger signed other sequences than the items'; items missing: 5"
    ]


def test_a_dropped_middle_item_breaks_the_subject_link_and_the_statement(
    bundle: dict[str, Any],
) -> None:
    forged = copy.deepcopy(bundle)
    del forged["items"][1]
    problems = problems_of(forged)
    assert "statement: the ledger signed other sequences than the items'; items missing: 2" in (
        problems
    )
    assert (
        "item 1 (sequence 4): links to sequence 2 as the subject's event before it, but the "
        "bundle's is 1: an item is missing before it"
    ) in problems


def test_a_bundle_signed_by_another_key_is_refused_naming_the_signature(
    ledger: Ledger,
) -> None:
    impostor = a_signer()  # same name, another key
    ledger.store.con.execute("DELETE FROM checkpoints")
    ledger.store.sign_checkpoint(impostor, NOW)
    forged = proof_bundle(ledger.store.cursor(), SUBJECT, impostor)
    problems = problems_of(forged)
    assert len(problems) == 1 and problems[0].startswith("checkpoint: ")
    assert "careledger.test/ledger" in problems[0]


def test_a_statement_about_another_subject_is_refused(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    other = proof_bundle(ledger.store.cursor(), OTHER_SUBJECT, SIGNER)
    forged = copy.deepcopy(bundle)
    forged["statement"] = other["statement"]
    assert problems_of(forged) == [
        "statement: signed for another subject or another checkpoint than the bundle's"
    ]


def test_another_subjects_event_slipped_in_fails_the_check(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    other = proof_bundle(ledger.store.cursor(), OTHER_SUBJECT, SIGNER)["items"][0]
    forged = copy.deepcopy(bundle)
    forged["items"].insert(2, other)
    assert f"item 2 (sequence 3): payload subject_id is not {SUBJECT!r}" in problems_of(forged)


def test_a_first_version_bundle_is_still_read_with_a_warning(bundle: dict[str, Any]) -> None:
    first = {
        "format": "careledger-proof/1",
        "subject_id": SUBJECT,
        "ledger_head": {"sequence": 5, "hash": bundle["items"][-1]["hash"]},
        "erased": bundle["erased"],
        "items": [
            {
                k: v
                for k, v in i.items()
                if k not in ("subject_prev", "leaf_index", "inclusion_path")
            }
            for i in bundle["items"]
        ],
    }
    checked = check_bundle(first, KEY)
    assert checked.ok and checked.warnings == [FIRST_VERSION_WARNING]
    first["items"][0]["hash"] = "00" * 32
    assert "item 0 (sequence 1): hash does not match prev_hash, sequence and payload" in (
        check_bundle(first, KEY).problems
    )


def test_a_second_version_bundle_relabelled_first_version_is_refused(
    bundle: dict[str, Any],
) -> None:
    forged = copy.deepcopy(bundle)
    forged["format"] = "careledger-proof/1"
    forged["items"].pop()
    checked = check_bundle(forged, KEY)
    assert not checked.ok
    assert checked.problems[0].startswith("a careledger-proof/1 bundle with careledger-proof/2")


def test_an_erasure_marker_must_be_the_erasure_items_own(bundle: dict[str, Any]) -> None:
    forged = copy.deepcopy(bundle)
    forged["erased"]["occurred_at"] = "1999-01-01T00:00:00+00:00"
    assert problems_of(forged) == ["erased does not agree with the SubjectErased item"]


@pytest.mark.parametrize(
    ("spoil", "named"),
    [
        (lambda b: b.update(format="careledger-proof/9"), "format is 'careledger-proof/9'"),
        (lambda b: b.update(items=5), "items is not a list"),
        (lambda b: b.update(checkpoint=None), "checkpoint: "),
        (lambda b: b.update(statement="garbage"), "statement: "),
        (lambda b: b["items"][0].update(sequence="5"), "statement: not every item"),
        (lambda b: b["items"][1].update(inclusion_path=[7]), "item 1 (sequence 2): unreadable"),
        (lambda b: b["items"][1].update(leaf_index=2), "not included at leaf 2"),
        (lambda b: b.update(erased=None), "erased does not agree"),
        (lambda b: b.update(erased=True), "erased does not agree"),
        (lambda b: b["items"][1].update(sequence=2**64 + 3), "statement: "),
        (lambda b: b["items"][1].update(leaf_index=2**64 + 3), "unreadable"),
        (lambda b: b["items"][1].update(occurred_at="2020-01-01T00:00:00Z"), "occurred_at"),
        (lambda b: b.update(subject_id="x\ntree 1 AAAA"), "is not an opaque id"),
    ],
)
def test_a_malformed_or_inconsistent_bundle_is_reported_never_raised(
    bundle: dict[str, Any], spoil: Any, named: str
) -> None:
    forged = copy.deepcopy(bundle)
    spoil(forged)
    problems = problems_of(forged)
    assert any(named in p for p in problems), problems
