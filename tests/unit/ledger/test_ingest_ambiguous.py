"""A consent event whose JSON names another consent id than the event decodes to (a
repeated key: msgspec keeps the last, DuckDB the first) is refused, so that every consent
event the ledger holds reads the same in SQL over the log (an as-of question's subject
closure, the split of a rebuild in parts) and in the registers."""

from pathlib import Path

import pytest

from careledger.contracts import encode
from careledger.ledger.queries.as_of import register_as_of
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    consent_given,
    consent_withdrawn,
    contact_opened,
    message,
    with_first,
)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(contact_opened(at(0)), consent_given(at(1)))
    yield ledger
    ledger.close()


def test_a_consent_id_written_twice_with_two_values_is_refused_and_changes_nothing(
    ledger: Ledger,
) -> None:
    consents = ledger.rows("SELECT * FROM consents")
    withdrawal = consent_withdrawn(at(2), purposes=["call_recording"])
    ledger.deliver([with_first(withdrawal, "consent_id", an_id("elsewhere"), 3)])
    assert ledger.rows("SELECT * FROM consents") == consents
    assert ledger.rows("SELECT count(*) AS n FROM events") == [{"n": 2}]
    [refused] = ledger.rows("SELECT sequence, rule, reason FROM rejected")
    assert (refused["sequence"], refused["rule"]) == (3, "ambiguous_payload")
    assert an_id("elsewhere") in refused["reason"] and withdrawal.consent_id in refused["reason"]


def test_the_same_id_written_twice_reads_the_same_both_ways_and_is_applied(
    ledger: Ledger,
) -> None:
    withdrawal = consent_withdrawn(at(2), purposes=["call_recording"])
    ledger.deliver([with_first(withdrawal, "consent_id", withdrawal.consent_id, 3)])
    assert ledger.rows("SELECT count(*) AS n FROM rejected") == [{"n": 0}]
    assert ledger.rows("SELECT count(*) AS n FROM events") == [{"n": 3}]
    assert "withdrawn" in {r["state"] for r in ledger.rows("SELECT state FROM consents")}


def test_an_as_of_answer_for_a_subject_equals_the_register_after_such_a_payload(
    ledger: Ledger,
) -> None:
    """Another subject's consent given first under a consent id, its JSON naming another:
    were it held, the subject-scoped replay (which reads ids from the JSON) would miss it
    and show the subject's later consent under that id as given; the register does not."""
    taken = an_id("taken")
    first = consent_given(at(3), consent_id=taken, subject_id=OTHER_SUBJECT, contact_id=None)
    ledger.deliver([with_first(first, "consent_id", an_id("decoy"), 3)])
    ledger.feed(consent_given(at(4), consent_id=taken, contact_id=None))
    register = ledger.rows(
        f"SELECT consent_id, purpose, state FROM consents WHERE subject_id = '{SUBJECT}' "
        "ORDER BY ALL"
    )
    page = register_as_of(
        ledger.store.con,
        "consents",
        {"subject_id": SUBJECT},
        at(10),
        projections=ledger.store.projections,
        policy=ledger.store.policy,
    )
    answer = sorted((r["consent_id"], r["purpose"], r["state"]) for r in page["items"])
    assert answer == [tuple(r.values()) for r in register]
    assert any(r["consent_id"] == taken for r in register)


def test_a_consent_event_sql_cannot_read_is_refused_and_its_batch_goes_on(
    ledger: Ledger,
) -> None:
    """A field the contract does not know, holding invalid UTF-8 that SQL cannot read: the
    contract refuses the unknown field before reading it, and the rest of the batch is
    applied (the SQL check's one statement failed for the whole batch, at every
    redelivery, when events let unknown fields through unread)."""
    withdrawal = consent_withdrawn(at(2), purposes=["call_recording"])
    unreadable = b'{"note": "\xff",' + encode(withdrawal)[1:]
    opened = contact_opened(at(3), contact_id=an_id("after"))
    ledger.deliver(
        [
            message(3, withdrawal, unreadable),
            message(4, opened),
        ]
    )
    [refused] = ledger.rows("SELECT sequence, rule, reason FROM rejected")
    assert (refused["sequence"], refused["rule"]) == (3, "contract:unknown_field")
    assert "`note`" in refused["reason"]
    assert ledger.rows("SELECT max(sequence) AS last FROM events") == [{"last": 4}]
