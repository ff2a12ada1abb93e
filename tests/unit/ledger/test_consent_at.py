"""Was purpose P consented by subject S at T? Given, withdrawn, given again — on both
axes, with the evidence and its place in the log."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from careledger.contracts import Evidence, Notice
from careledger.ledger.queries.as_of import Axis
from careledger.ledger.queries.consent_at import consent_at
from tests.unit.ledger.events import (
    CLAIMED_AFTER,
    SUBJECT,
    Ledger,
    Stored,
    an_id,
    at,
    consent_given,
    consent_withdrawn,
    contact_opened,
    subject_erased,
)

FIRST, AGAIN = an_id("consent-at-first"), an_id("consent-at-again")
NOTICE = Notice(id="ivr-script", version="v7", sha256="cd" * 32, shown_at=at(-0.5))
EVIDENCE = Evidence(kind="call_recording", reference="rec-0042")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "consents.duckdb")
    ledger.feed(
        contact_opened(at(-1)),
        consent_given(
            at(0), consent_id=FIRST, purposes=["call_recording"], notice=NOTICE, evidence=EVIDENCE
        ),
        # withdrawn at minute 10, stored by the stream only at minute 15
        Stored(consent_withdrawn(at(10), consent_id=FIRST, purposes=["call_recording"]), at(15)),
        consent_given(at(20), consent_id=AGAIN, purposes=["call_recording"]),
        subject_erased(at(30)),
    )
    yield ledger
    ledger.close()


def ask(ledger: Ledger, t: dt.datetime, axis: Axis = "occurred") -> dict[str, Any]:
    return consent_at(ledger.store.con, SUBJECT, "call_recording", t, axis)


def logged(ledger: Ledger, event_id: str) -> dict[str, Any]:
    row = ledger.rows(f"SELECT sequence, hash FROM events WHERE event_id = '{event_id}'")[0]
    return {"sequence": row["sequence"], "hash": bytes(row["hash"]).hex()}


def test_before_any_consent_the_purpose_was_never_consented(ledger: Ledger) -> None:
    answer = ask(ledger, at(-0.5))
    assert (answer["consented"], answer["state"], answer["given"]) == (False, "never_given", None)


def test_after_the_consent_the_answer_carries_its_evidence_and_log_position(
    ledger: Ledger,
) -> None:
    answer = ask(ledger, at(5))
    given = answer["given"]
    assert (answer["consented"], answer["state"], answer["consent_id"]) == (True, "given", FIRST)
    assert given["notice"] == {
        "id": "ivr-script",
        "version": "v7",
        "sha256": "cd" * 32,
        "shown_at": at(-0.5),
    }
    assert given["evidence"] == {"kind": "call_recording", "reference": "rec-0042"}
    assert given["mechanism"] and given["controller"] and given["captured_by"]
    assert {k: given[k] for k in ("sequence", "hash")} == logged(ledger, given["event_id"])
    assert answer["withdrawn"] is None


@pytest.mark.parametrize(
    ("axis", "consented", "state"), [("occurred", False, "withdrawn"), ("recorded", True, "given")]
)
def test_between_the_withdrawal_and_its_recording_the_axes_disagree(
    ledger: Ledger, axis: Axis, consented: bool, state: str
) -> None:
    answer = ask(ledger, at(12), axis)
    assert (answer["consented"], answer["state"]) == (consented, state)


def test_a_withdrawn_consent_names_the_withdrawal_event(ledger: Ledger) -> None:
    answer = ask(ledger, at(17), "recorded")
    withdrawn = answer["withdrawn"]
    assert (answer["consented"], answer["state"]) == (False, "withdrawn")
    assert withdrawn["occurred_at"] == at(10) and withdrawn["recorded_at"] == at(15)
    assert withdrawn["claimed_recorded_at"] == at(10) + CLAIMED_AFTER  # shown, never used
    assert {k: withdrawn[k] for k in ("sequence", "hash")} == logged(ledger, withdrawn["event_id"])


def test_consent_given_again_holds_and_the_history_keeps_the_withdrawn_one(
    ledger: Ledger,
) -> None:
    for axis in ("occurred", "recorded"):
        answer = ask(ledger, at(25), axis)  # type: ignore[arg-type]
        assert (answer["consented"], answer["consent_id"]) == (True, AGAIN)
        assert [(c["consent_id"], c["state"]) for c in answer["consents"]] == [
            (FIRST, "withdrawn"),
            (AGAIN, "given"),
        ]


def test_after_erasure_nothing_is_consented_but_the_evidence_is_kept(ledger: Ledger) -> None:
    answer = ask(ledger, at(31))
    assert (answer["consented"], answer["state"], answer["consent_id"]) == (False, "given", AGAIN)
    assert answer["subject_erased_at"] == at(30)
    assert answer["given"]["evidence"]["kind"]
