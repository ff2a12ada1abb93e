"""The contacts register: every interaction, its channel, and how it ended."""

from pathlib import Path

from tests.unit.ledger.events import (
    CONTACT,
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    contact_closed,
    contact_opened,
    rows_after,
)

OPENED = contact_opened(at(0), channel="phone", network=None, agent="agent-7")
CLOSED = contact_closed(at(12), outcome="complaint_filed")
OTHER_OPENED = contact_opened(
    at(1), contact_id=an_id("other-contact"), channel="chat", network=None
)
STORY = [OPENED, OTHER_OPENED, CLOSED]
SQL = "SELECT * FROM contacts ORDER BY contact_id"


def test_a_contact_opened_then_closed_is_one_row_with_both_events_as_lineage(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED, CLOSED)
    assert ledger.table("contacts", "contact_id") == [
        {
            "contact_id": CONTACT,
            "subject_id": SUBJECT,
            "channel": "phone",
            "network": None,
            "direction": "inbound",
            "mode": "direct",
            "agent": "agent-7",
            "opened_at": at(0),
            "closed_at": at(12),
            "outcome": "complaint_filed",
            "status": "closed",
            "event_ids": [OPENED.event_id, CLOSED.event_id],
        }
    ]


def test_an_open_contact_has_no_closure_yet(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED)
    [row] = ledger.table("contacts", "contact_id")
    assert (row["status"], row["closed_at"], row["outcome"]) == ("open", None, None)
    assert row["event_ids"] == [OPENED.event_id]


def test_a_closure_of_an_unknown_contact_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED)
    before = ledger.table("contacts", "contact_id")
    ledger.feed(contact_closed(at(5), contact_id=an_id("never-opened")))
    assert ledger.table("contacts", "contact_id") == before


def test_a_closure_by_another_subject_or_a_second_closure_changes_nothing(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED)
    ledger.feed(contact_closed(at(5), subject_id=OTHER_SUBJECT, outcome="resolved"))
    [row] = ledger.table("contacts", "contact_id")
    assert (row["status"], row["event_ids"]) == ("open", [OPENED.event_id])
    ledger.feed(CLOSED, contact_closed(at(30), outcome="resolved"))
    [row] = ledger.table("contacts", "contact_id")
    assert (row["closed_at"], row["outcome"]) == (at(12), "complaint_filed")
    assert row["event_ids"] == [OPENED.event_id, CLOSED.event_id]


def test_the_story_cut_into_two_batches_anywhere_gives_the_same_rows(tmp_path: Path) -> None:
    whole = rows_after(tmp_path / "whole.duckdb", [STORY], SQL)
    for cut in range(1, len(STORY)):
        halves = [STORY[:cut], STORY[cut:]]
        assert rows_after(tmp_path / f"cut-{cut}.duckdb", halves, SQL) == whole


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    batch = ledger.feed(*STORY)
    before = ledger.rows(SQL)
    ledger.deliver(batch)
    assert ledger.rows(SQL) == before


def test_the_same_event_published_again_at_a_new_sequence_changes_nothing(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    before = ledger.rows(SQL)
    ledger.feed(CLOSED)
    assert ledger.rows(SQL) == before


def test_a_rebuild_in_one_batch_equals_applying_one_event_per_batch(tmp_path: Path) -> None:
    one_by_one = rows_after(tmp_path / "live.duckdb", [[e] for e in STORY], SQL)
    assert rows_after(tmp_path / "rebuilt.duckdb", [STORY], SQL) == one_by_one
