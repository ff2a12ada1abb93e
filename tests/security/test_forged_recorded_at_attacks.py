"""The recorded axis is the ledger's clock: an event counts as recorded when the stream
stored it, whatever ``recorded_at`` its publisher wrote. A publisher that backdates the
claim (the attack of issue 16) cannot make the ledger answer "consented" for a time
before the consent existed."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from careledger.ledger.domain.projections import projections
from careledger.ledger.queries.as_of import Axis, register_as_of
from careledger.ledger.queries.consent_at import consent_at
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    SUBJECT,
    Ledger,
    Stored,
    at,
    consent_given,
    contact_opened,
)

FORGED = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # years before the event existed
STORED = at(10)  # when the stream stored it: the event exists from here on
CONSENT = consent_given(at(9), purposes=["marketing_email"], recorded_at=FORGED)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "forged.duckdb")
    ledger.feed(contact_opened(at(0)), Stored(CONSENT, STORED))
    yield ledger
    ledger.close()


def consented(ledger: Ledger, t: dt.datetime, axis: Axis) -> dict[str, Any]:
    return consent_at(ledger.store.con, SUBJECT, "marketing_email", t, axis)


def consents_as_of(ledger: Ledger, t: dt.datetime) -> list[dict[str, Any]]:
    policy = shipped_policy()
    page = register_as_of(
        ledger.store.con,
        "consents",
        {"subject_id": SUBJECT},
        t,
        "recorded",
        projections=projections(policy),
        policy=policy,
    )
    items: list[dict[str, Any]] = page["items"]
    return items


def test_a_backdated_claim_does_not_make_consent_at_answer_before_the_stream_stored_it(
    ledger: Ledger,
) -> None:
    before = consented(ledger, STORED - dt.timedelta(seconds=1), "recorded")
    after = consented(ledger, STORED, "recorded")
    assert (before["consented"], before["state"], before["given"]) == (False, "never_given", None)
    assert (after["consented"], after["state"]) == (True, "given")
    assert after["given"]["recorded_at"] == STORED
    assert after["given"]["claimed_recorded_at"] == FORGED  # kept as a claim, shown as one


def test_a_backdated_claim_does_not_put_a_consent_in_the_register_as_of_before_it_was_stored(
    ledger: Ledger,
) -> None:
    assert consents_as_of(ledger, FORGED + dt.timedelta(days=1)) == []
    assert consents_as_of(ledger, STORED - dt.timedelta(seconds=1)) == []
    [row] = consents_as_of(ledger, STORED)
    assert (row["state"], row["given_recorded_at"]) == ("given", STORED)


def test_the_occurred_axis_still_reads_when_the_publisher_says_it_happened(
    ledger: Ledger,
) -> None:
    assert consented(ledger, at(9.5), "occurred")["consented"] is True
    assert consented(ledger, at(9.5), "recorded")["consented"] is False


def test_the_log_keeps_the_stored_instant_and_the_claim_apart_and_every_register_reads_the_first(
    ledger: Ledger,
) -> None:
    [event] = ledger.rows(
        "SELECT recorded_at, claimed_recorded_at, recorded_clock FROM events "
        "WHERE type = 'ConsentGiven'"
    )
    assert event == {
        "recorded_at": STORED,
        "claimed_recorded_at": FORGED,
        "recorded_clock": "server",
    }
    [timeline] = ledger.rows("SELECT recorded_at FROM timeline WHERE type = 'ConsentGiven'")
    [consent] = ledger.rows("SELECT given_recorded_at FROM consents")
    assert timeline["recorded_at"] == consent["given_recorded_at"] == STORED
