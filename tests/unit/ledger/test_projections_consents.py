"""The consent register: proof of each purpose consented to (GDPR Art. 7(1)), withdrawals
purpose by purpose (Art. 7(3)), and erasure that keeps the proof (Art. 17(3))."""

import json
import zlib
from pathlib import Path
from typing import Any

from careledger.contracts import Actor, Evidence, Notice, Retention, encode
from careledger.ledger.queries.registers.consents import WITH_ERASURE
from tests.unit.ledger.events import (
    CONSENT,
    CONTACT,
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    consent_given,
    consent_withdrawn,
    message,
    recorded,
    rows_after,
    subject_erased,
)

NOTICE = Notice(id="ivr-recording-notice", version="2026-02", sha256="ab" * 32, shown_at=at(-1))
GIVEN = consent_given(
    at(0),
    actor=Actor(kind="agent", id="agent-7"),
    purposes=["call_recording", "quality_assurance"],
    lawful_basis="consent",
    mechanism="verbal",
    notice=NOTICE,
    evidence=Evidence(kind="call_recording", reference="rec-8812"),
    channel="phone",
)
WITHDRAWN = consent_withdrawn(
    at(30), actor=Actor(kind="customer", id="self-service"), purposes=["quality_assurance"]
)
OTHER_CONSENT = an_id("other-consent")
OTHERS = consent_given(at(5), subject_id=OTHER_SUBJECT, consent_id=OTHER_CONSENT, contact_id=None)
ERASED = subject_erased(
    at(60),
    legal_basis="gdpr.art_17_1_b",
    retained=[
        Retention(
            record_class="consent_proof",
            exemption="art_17_3_e_legal_claims",
            reason="Proof of lawful processing while consent was in force",
        )
    ],
)
STORY = [GIVEN, OTHERS, WITHDRAWN, ERASED]
SQL = "SELECT * FROM consents ORDER BY consent_id, purpose"


def given_row(purpose: str, **changes: Any) -> dict[str, Any]:
    return {
        "consent_id": CONSENT,
        "purpose": purpose,
        "subject_id": SUBJECT,
        "controller": "Acme Telecom Iberia S.A.",
        "lawful_basis": "consent",
        "mechanism": "verbal",
        "notice_id": "ivr-recording-notice",
        "notice_version": "2026-02",
        "notice_sha256": "ab" * 32,
        "notice_shown_at": at(-1),
        "evidence_kind": "call_recording",
        "evidence_reference": "rec-8812",
        "channel": "phone",
        "contact_id": CONTACT,
        "captured_by": "agent:agent-7",
        "given_at": at(0),
        "given_recorded_at": recorded(at(0)),
        "withdrawn_at": None,
        "withdrawn_recorded_at": None,
        "withdrawal_channel": None,
        "withdrawn_by": None,
        "state": "given",
        "event_ids": [GIVEN.event_id],
        "subject_key": zlib.crc32(SUBJECT.encode()),
    } | changes


def consents(ledger: Ledger) -> list[dict[str, Any]]:
    return ledger.table("consents", "consent_id, purpose")


def test_consent_given_for_two_purposes_is_proven_purpose_by_purpose(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(GIVEN)
    assert consents(ledger) == [given_row("call_recording"), given_row("quality_assurance")]


def test_a_withdrawal_withdraws_only_the_purposes_it_names(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(GIVEN, WITHDRAWN)
    assert consents(ledger) == [
        given_row("call_recording"),
        given_row(
            "quality_assurance",
            withdrawn_at=at(30),
            withdrawn_recorded_at=recorded(at(30)),
            withdrawal_channel="email",
            withdrawn_by="customer:self-service",
            state="withdrawn",
            event_ids=[GIVEN.event_id, WITHDRAWN.event_id],
        ),
    ]


def test_withdrawals_of_unknown_consents_purposes_or_by_another_subject_change_nothing(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(GIVEN)
    before = consents(ledger)
    ledger.feed(
        consent_withdrawn(at(1), consent_id=an_id("never-given")),
        consent_withdrawn(at(2), purposes=["marketing_email"]),
        consent_withdrawn(at(3), subject_id=OTHER_SUBJECT, purposes=["call_recording"]),
    )
    assert consents(ledger) == before


def test_a_second_withdrawal_or_a_second_giving_leaves_the_first_record_standing(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(GIVEN, WITHDRAWN)
    before = consents(ledger)
    ledger.feed(
        consent_withdrawn(at(40), purposes=["quality_assurance"], channel="phone"),
        consent_given(at(50), purposes=["call_recording"], controller="Someone Else S.L."),
    )
    assert consents(ledger) == before


def test_erasure_keeps_the_proof_and_the_register_shows_when_the_subject_was_erased(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(GIVEN, OTHERS)
    before = consents(ledger)
    ledger.feed(ERASED)
    assert consents(ledger) == before
    register = ledger.rows(f"SELECT * FROM ({WITH_ERASURE}) ORDER BY consent_id, purpose")
    erased = {(r["subject_id"], r["purpose"]): r["subject_erased_at"] for r in register}
    assert erased == {
        (SUBJECT, "call_recording"): at(60),
        (SUBJECT, "quality_assurance"): at(60),
        (OTHER_SUBJECT, "call_recording"): None,
        (OTHER_SUBJECT, "quality_assurance"): None,
    }


def test_an_erasure_is_recorded_once_per_subject_with_what_was_kept_and_why(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(ERASED, subject_erased(at(90), legal_basis="gdpr.art_17_1_a"))
    assert ledger.table("erasures", "subject_id") == [
        {
            "subject_id": SUBJECT,
            "erased_at": at(60),
            "recorded_at": recorded(at(60)),
            "legal_basis": "gdpr.art_17_1_b",
            "erased_by": "agent:dpo-office",
            "retained_record_classes": ["consent_proof"],
            "retained_exemptions": ["art_17_3_e_legal_claims"],
            "retained_reasons": ["Proof of lawful processing while consent was in force"],
            "event_ids": [ERASED.event_id],
        }
    ]


def test_a_notice_shown_time_without_a_zone_is_refused_by_the_contract(tmp_path: Path) -> None:
    event = consent_given(at(0), purposes=["marketing_email"])
    raw = json.loads(encode(event))
    raw["notice"]["shown_at"] = "2026-03-02T00:00:00"  # as a careless publisher might send it
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.deliver([message(1, event, json.dumps(raw).encode())])
    assert consents(ledger) == []
    assert ledger.rows("SELECT rule FROM rejected") == [{"rule": "contract:timezone"}]


def test_the_story_cut_into_two_batches_anywhere_gives_the_same_rows(tmp_path: Path) -> None:
    for n, sql in enumerate((SQL, f"SELECT * FROM ({WITH_ERASURE}) ORDER BY consent_id, purpose")):
        whole = rows_after(tmp_path / f"{n}-whole.duckdb", [STORY], sql)
        for cut in range(1, len(STORY)):
            halves = [STORY[:cut], STORY[cut:]]
            assert rows_after(tmp_path / f"{n}-cut-{cut}.duckdb", halves, sql) == whole


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    batch = ledger.feed(*STORY)
    before = ledger.rows(SQL), ledger.rows("SELECT * FROM erasures")
    ledger.deliver(batch)
    assert (ledger.rows(SQL), ledger.rows("SELECT * FROM erasures")) == before


def test_a_rebuild_in_one_batch_equals_applying_one_event_per_batch(tmp_path: Path) -> None:
    for table, order in (("consents", "consent_id, purpose"), ("erasures", "subject_id")):
        sql = f"SELECT * FROM {table} ORDER BY {order}"
        live = rows_after(tmp_path / f"live-{table}.duckdb", [[e] for e in STORY], sql)
        assert live
        assert rows_after(tmp_path / f"rebuilt-{table}.duckdb", [STORY], sql) == live
