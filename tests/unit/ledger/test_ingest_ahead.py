"""Ingesting a batch while the one before it is still being committed (the runner's
pipeline) decides exactly as ingesting it after that commit would: the same events
applied, the same rejections for the same rules, the same hash chain."""

from pathlib import Path

import msgspec
import pytest

from careledger.contracts.events import Event
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.ingest.ingest import (
    Committing,
    LogMessage,
    Outcome,
    Position,
    ingest,
)
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    an_id,
    complaint_acknowledged,
    complaint_filed,
    consent_given,
    consent_withdrawn,
    contact_closed,
    contact_opened,
    message,
)


def messages(events: list[Event], first: int) -> list[LogMessage]:
    return [message(sequence, event) for sequence, event in enumerate(events, start=first)]


def first_and_second() -> tuple[list[Event], list[Event]]:
    """A first batch that creates a contact, a consent and a complaint; a second that
    refers to each, repeats an event id of the first, and refers to a contact nobody
    opened."""
    opened = contact_opened()
    first: list[Event] = [opened, consent_given(), complaint_filed()]
    second: list[Event] = [
        contact_closed(),
        consent_withdrawn(),
        complaint_acknowledged(),
        msgspec.structs.replace(contact_closed(), event_id=opened.event_id),
        contact_closed(contact_id=an_id("never-opened")),
    ]
    return first, second


def decisions(outcome: Outcome) -> tuple[list[int], list[tuple[int, str]], Position]:
    applied = [a.sequence for a in outcome.applied]
    rejected = [(r.message.sequence, r.rule) for r in outcome.rejected]
    return applied, rejected, outcome.position


def second_outcome(
    tmp_path: Path, when: str, first: list[Event], second: list[Event]
) -> tuple[Outcome, LedgerStore]:
    """The second batch's outcome, ingested during, or after, the first one's commit."""
    store = LedgerStore(tmp_path / f"{when}.duckdb", shipped_policy())
    outcome = ingest(messages(first, 1), Position(), store)
    later = messages(second, len(first) + 1)
    if when == "after":
        store.commit(outcome, Position())
        ahead = ingest(later, outcome.position, store)
    else:
        ahead = ingest(later, outcome.position, Committing(store, outcome))
        store.commit(outcome, Position())
    store.commit(ahead, outcome.position)
    return ahead, store


def test_a_batch_ingested_while_the_one_before_commits_decides_as_if_after(
    tmp_path: Path,
) -> None:
    first, second = first_and_second()
    before, ahead_store = second_outcome(tmp_path, "during", first, second)
    after, after_store = second_outcome(tmp_path, "after", first, second)
    try:
        assert decisions(before) == decisions(after)
        applied, rejected, _ = decisions(before)
        assert applied == [4, 5, 6]  # the closure, withdrawal and acknowledgement
        assert rejected == [(7, "duplicate_event_id"), (8, "unknown_reference")]
        chain = "SELECT sequence, hash FROM events ORDER BY sequence"
        assert (
            ahead_store.con.execute(chain).fetchall() == after_store.con.execute(chain).fetchall()
        )
    finally:
        ahead_store.close()
        after_store.close()


@pytest.mark.parametrize("answer", ["before the commit", "after the commit"])
def test_the_store_may_answer_from_either_side_of_the_commit(tmp_path: Path, answer: str) -> None:
    """Whichever snapshot the store's connection sees, ``Committing`` gives one answer."""
    store = LedgerStore(tmp_path / "l.duckdb", shipped_policy())
    first, _ = first_and_second()
    outcome = ingest(messages(first, 1), Position(), store)
    if answer == "after the commit":
        store.commit(outcome, Position())
    view = Committing(store, outcome)
    ids = [first[0].event_id, an_id("unseen")]
    refs = {("contact", first[0].contact_id), ("contact", an_id("unseen"))}  # type: ignore[attr-defined]
    try:
        assert view.known(ids) == {first[0].event_id}
        assert view.existing(refs) == {("contact", first[0].contact_id)}  # type: ignore[attr-defined]
        subject = first[-1].subject_id
        last = max(m.sequence for m in messages(first, 1) if m.data and subject in m.data.decode())
        assert view.latest_of_subjects({subject, an_id("unseen")}) == {subject: last}
    finally:
        store.close()


def test_the_store_asks_on_a_connection_of_its_own(tmp_path: Path) -> None:
    """``known`` and ``existing`` are asked on another connection than the one a commit
    writes on (DuckDB refuses a second call on a connection busy in another thread): they
    do not see the commit's rows until it ends."""
    store = LedgerStore(tmp_path / "l.duckdb", shipped_policy())
    first, _ = first_and_second()
    outcome = ingest(messages(first, 1), Position(), store)
    ids, contact = [e.event_id for e in first], ("contact", first[0].contact_id)  # type: ignore[attr-defined]
    try:
        with store.transaction():
            store.commit_rows(outcome, Position())
            assert store.con.execute("SELECT count(*) FROM events").fetchall() == [(3,)]
            assert store.known(ids) == set() and store.existing({contact}) == set()
        assert store.known(ids) == set(ids) and store.existing({contact}) == {contact}
    finally:
        store.close()
