"""The history routes of a running ledger: registers as of an instant, consent at an
instant, a subject's proof bundle — and field-level refusals of bad parameters."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from careledger.ledger.adapters.signing_key import load_signer
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.domain.merkle import leaf, leaf_hash, verify_consistency, verify_inclusion
from careledger.ledger.domain.note import (
    Checkpoint,
    checkpoint_text,
    open_note,
    parse_checkpoint,
    sign,
    verifier_from_text,
)
from careledger.ledger.entrypoints.cli import main
from careledger.ledger.queries.bundle_check import check_bundle
from careledger.ledger.settings import Settings
from tests.integration.conftest import RunningIntake
from tests.support.nats import service_settings
from tests.support.scenario import PERSONAL_STRINGS, Story

Client = AsyncTestClient[Any]


@pytest.fixture
async def story_ledger(
    intake: RunningIntake, tmp_path: Path
) -> AsyncIterator[tuple[Story, Client, int]]:
    """The whole scenario (erasure last) through intake, applied by a running ledger."""
    story = Story()
    commands = story.commands()
    for n, (command, payload) in enumerate(commands):
        reply = await intake.post(command, payload, f"history-{story.subject_id}-{n}")
        assert reply.status_code == 201, reply.text
    settings = Settings(
        **service_settings(intake.server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        auditors_file=intake.principals.auditors_file,
        checkpoint_key_file=intake.principals.checkpoint_key_file,
    )
    async with AsyncTestClient(LedgerService(settings).http_app()) as ledger:
        ledger.headers.update(intake.principals.auditor_headers())
        for _ in range(200):
            position = (await ledger.get("/v1/ledger/position")).json()
            if position["ledger_sequence"] >= len(commands):
                break
            await asyncio.sleep(0.05)
        yield story, ledger, len(commands)


async def test_a_register_as_of_now_equals_the_register_and_before_the_story_is_empty(
    story_ledger: tuple[Story, Client, int],
) -> None:
    story, ledger, _ = story_ledger
    mine = f"subject_id={story.subject_id}"
    for name in ("complaints", "consents", "contacts", "escalations", "erasures"):
        today = (await ledger.get(f"/v1/registers/{name}?{mine}")).json()
        for axis in ("occurred", "recorded"):
            then = await ledger.get(f"/v1/registers/{name}?{mine}&as_of=now&axis={axis}")
            assert then.status_code == 200, then.text
            assert then.json()["items"] == today["items"], name
        before = await ledger.get(f"/v1/registers/{name}?{mine}&as_of=2000-01-01T00:00:00Z")
        assert before.json()["total"] == 0


async def test_consent_at_an_instant_answers_with_the_evidence(
    story_ledger: tuple[Story, Client, int],
) -> None:
    story, ledger, _ = story_ledger
    route = f"/v1/subjects/{story.subject_id}/consents"
    recording = (await ledger.get(f"{route}/call_recording?at=now")).json()
    marketing = (await ledger.get(f"{route}/marketing?at=now&axis=recorded")).json()
    never = (await ledger.get(f"{route}/call_recording?at=2000-01-01T00:00:00%2B01:00")).json()

    assert (recording["state"], recording["consent_id"]) == ("given", story.consent_id)
    assert recording["consented"] is False and recording["subject_erased_at"]  # erased last
    assert recording["given"]["evidence"]["reference"] and recording["given"]["sequence"] >= 1
    assert (marketing["state"], marketing["withdrawn"]["channel"]) == ("withdrawn", "email")
    assert (never["consented"], never["state"]) == (False, "never_given")


async def test_the_proof_bundle_of_a_subject_checks_and_holds_no_personal_data(
    story_ledger: tuple[Story, Client, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story, ledger, events = story_ledger
    reply = await ledger.get(f"/v1/subjects/{story.subject_id}/proof")
    bundle = reply.json()
    payloads = b"".join(base64.b64decode(i["payload_base64"]) for i in bundle["items"])

    assert reply.status_code == 200
    assert len(bundle["items"]) == events
    assert bundle["erased"]["sequence"] == bundle["items"][-1]["sequence"]
    served_key = (await ledger.get("/v1/ledger/key")).text.strip()
    key = verifier_from_text(served_key)
    assert check_bundle(bundle, key).problems == []
    for personal in PERSONAL_STRINGS:
        assert personal not in reply.text and personal.encode() not in payloads

    path, key_file = tmp_path / "bundle.json", tmp_path / "ledger.vkey"
    key_file.write_text(served_key)
    path.write_text(json.dumps(bundle))
    with pytest.raises(SystemExit) as passed:
        main(["audit", "proof", "--check", str(path), "--key", str(key_file)])
    bundle["items"][0]["hash"] = "00" * 32
    path.write_text(json.dumps(bundle))
    with pytest.raises(SystemExit) as failed:
        main(["audit", "proof", "--check", str(path), "--key", str(key_file)])
    assert (passed.value.code, failed.value.code) == (0, 1)
    assert "item 0 (sequence 1): hash does not match" in capsys.readouterr().out


async def test_the_ledger_serves_a_checkpoint_its_key_checks_and_proofs_against_it(
    story_ledger: tuple[Story, Client, int], intake: RunningIntake
) -> None:
    _, ledger, events = story_ledger
    served_key = (await ledger.get("/v1/ledger/key")).text.strip()
    assert served_key == intake.principals.checkpoint_vkey
    asked = await ledger.post("/v1/ledger/checkpoint")
    assert asked.status_code == 200, asked.text
    note = (await ledger.get("/v1/ledger/checkpoint")).text
    checkpoint = parse_checkpoint(open_note(note, verifier_from_text(served_key)))
    assert (checkpoint.origin, checkpoint.size) == ("careledger.test/ledger", events)

    for sequence in range(1, events + 1):
        proof = (await ledger.get(f"/v1/ledger/proofs/inclusion?sequence={sequence}")).json()
        assert proof["tree_size"] == events
        path = [base64.b64decode(h) for h in proof["inclusion_path"]]
        hashed = base64.b64decode(proof["leaf_hash"])
        assert verify_inclusion(proof["leaf_index"], events, hashed, path, checkpoint.root)

    old = (await ledger.get("/v1/ledger/proofs/inclusion?sequence=1&size=3")).json()
    grown = (await ledger.get("/v1/ledger/proofs/consistency?from=3")).json()
    old_root = base64.b64decode(old["root_hash"])
    path = [base64.b64decode(h) for h in grown["consistency_path"]]
    assert verify_consistency(3, events, old_root, checkpoint.root, path)
    assert not verify_consistency(3, events, bytes(32), checkpoint.root, path)


async def test_a_leaf_served_is_the_event_it_names(
    story_ledger: tuple[Story, Client, int],
) -> None:
    story, ledger, _ = story_ledger
    item = (await ledger.get(f"/v1/subjects/{story.subject_id}/proof")).json()["items"][2]
    proof = (await ledger.get(f"/v1/ledger/proofs/inclusion?sequence={item['sequence']}")).json()
    data = leaf(
        item["sequence"],
        item["subject_prev"],
        bytes.fromhex(item["hash"]),
        base64.b64decode(item["payload_base64"]),
    )
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(data)


async def test_an_auditor_shows_the_log_only_grew_and_catches_a_forked_checkpoint(
    story_ledger: tuple[Story, Client, int],
    intake: RunningIntake,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An old checkpoint kept by a regulator, a new one from the ledger: consistent. One
    signed by the same key over another history (a fork): the check fails, naming it."""
    _, ledger, events = story_ledger
    await ledger.post("/v1/ledger/checkpoint")
    new = tmp_path / "new.note"
    new.write_text((await ledger.get("/v1/ledger/checkpoint")).text)
    signer = load_signer(intake.principals.checkpoint_key_file)
    at_three = (await ledger.get("/v1/ledger/proofs/inclusion?sequence=1&size=3")).json()
    kept, forked = tmp_path / "kept.note", tmp_path / "forked.note"
    root = base64.b64decode(at_three["root_hash"])
    kept.write_text(sign(checkpoint_text(Checkpoint(signer.name, 3, root)), signer))
    forked.write_text(sign(checkpoint_text(Checkpoint(signer.name, 3, bytes(32))), signer))
    proof = tmp_path / "proof.json"
    proof.write_text((await ledger.get("/v1/ledger/proofs/consistency?from=3")).text)
    key = tmp_path / "ledger.vkey"
    key.write_text(intake.principals.checkpoint_vkey)

    codes = []
    for old in (kept, forked):
        with pytest.raises(SystemExit) as done:
            main(["audit", "checkpoint", "--check", str(old), str(new), "--key", str(key),
                  "--proof", str(proof)])  # fmt: skip
        codes.append(done.value.code)
    assert codes == [0, 1]
    out = capsys.readouterr().out
    assert f"the consistency proof from size 3 to {events} fails" in out


BAD = [
    ("/v1/registers/contacts?as_of=2026-11-01T00:00:00", "as_of"),
    ("/v1/registers/contacts?as_of=last+tuesday", "as_of"),
    ("/v1/registers/contacts?as_of=now&axis=sideways", "axis"),
    ("/v1/registers/contacts?as_of=now&colour=red", "colour"),
    ("/v1/registers/contacts?as_of=now&limit=many", "limit"),
    ("/v1/subjects/s-1/consents/marketing?at=2026-11-01", "at"),
    ("/v1/subjects/s-1/consents/marketing?axis=both", "axis"),
    ("/v1/ledger/proofs/inclusion", "sequence"),
    ("/v1/ledger/proofs/inclusion?sequence=-1", "sequence"),
    ("/v1/ledger/proofs/inclusion?sequence=\u0661\u0662", "sequence"),  # Arabic-Indic 12
    ("/v1/ledger/proofs/inclusion?sequence=1&size=99999999", "size"),
    ("/v1/ledger/proofs/inclusion?sequence=1&size=0", "size"),
    ("/v1/ledger/proofs/inclusion?sequence=1&size=1e3", "size"),
    ("/v1/ledger/proofs/consistency?from=0", "from"),
    ("/v1/ledger/proofs/consistency?from=5&to=3", "from"),
    ("/v1/ledger/proofs/consistency?from=99999999999999999999", "from"),
]


async def test_bad_history_parameters_are_refused_naming_the_field(
    story_ledger: tuple[Story, Client, int],
) -> None:
    _, ledger, _ = story_ledger
    answers = [await ledger.get(query) for query, _ in BAD]
    assert [(a.status_code, a.json()["errors"][0]["field"]) for a in answers] == [
        (400, field) for _, field in BAD
    ]
    unknown = await ledger.get("/v1/registers/nothing?as_of=now")
    assert unknown.status_code == 404
    rejected = await ledger.get("/v1/ledger/proofs/inclusion?sequence=99999")
    assert (rejected.status_code, rejected.json()["errors"][0]["rule"]) == (404, "in_tree")
