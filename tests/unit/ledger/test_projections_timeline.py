"""The data-subject timeline: every event about a subject, in log order, with actor and channel."""

import zlib
from pathlib import Path

from careledger.contracts import Actor, Source
from tests.unit.ledger.events import (
    COMPLAINT,
    CONTACT,
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    at,
    complaint_filed,
    consent_given,
    contact_opened,
    recorded,
    rows_after,
    subject_erased,
)

AGENT = Actor(kind="agent", id="agent-7")
OPENED = contact_opened(
    at(0), actor=AGENT, source=Source(service="intake", client_id="ivr", channel="phone")
)
GIVEN = consent_given(at(2), actor=AGENT, source=Source(service="intake", client_id="ivr"))
OTHERS = contact_opened(at(3), subject_id=OTHER_SUBJECT, contact_id=an_id("other-contact"))
FILED = complaint_filed(at(4), actor=AGENT)
ERASED = subject_erased(at(90))
STORY = [OPENED, GIVEN, OTHERS, FILED, ERASED]
SQL = "SELECT * FROM timeline ORDER BY sequence"


def test_every_event_about_a_subject_is_on_its_timeline_in_log_order(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    rows = ledger.rows(f"SELECT * FROM timeline WHERE subject_id = '{SUBJECT}' ORDER BY sequence")
    assert rows[0] == {
        "sequence": 1,
        "subject_id": SUBJECT,
        "occurred_at": at(0),
        "recorded_at": recorded(at(0)),
        "type": "ContactOpened",
        "aggregate": "contact",
        "aggregate_id": CONTACT,
        "actor_kind": "agent",
        "actor_id": "agent-7",
        "channel": "phone",
        "client_id": "ivr",
        "event_ids": [OPENED.event_id],
        "subject_key": zlib.crc32(SUBJECT.encode()),
    }
    assert [(r["sequence"], r["type"], r["aggregate"], r["aggregate_id"]) for r in rows] == [
        (1, "ContactOpened", "contact", CONTACT),
        (2, "ConsentGiven", "subject", SUBJECT),
        (4, "ComplaintFiled", "complaint", COMPLAINT),
        (5, "SubjectErased", "subject", SUBJECT),
    ]
    assert [r["event_ids"] for r in rows] == [[e.event_id] for e in (OPENED, GIVEN, FILED, ERASED)]


def test_another_subjects_events_are_on_their_own_timeline(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    rows = ledger.rows(f"SELECT * FROM timeline WHERE subject_id = '{OTHER_SUBJECT}'")
    assert [(r["sequence"], r["type"], r["event_ids"]) for r in rows] == [
        (3, "ContactOpened", [OTHERS.event_id])
    ]


def test_the_story_cut_into_two_batches_anywhere_gives_the_same_rows(tmp_path: Path) -> None:
    whole = rows_after(tmp_path / "whole.duckdb", [STORY], SQL)
    for cut in range(1, len(STORY)):
        halves = [STORY[:cut], STORY[cut:]]
        assert rows_after(tmp_path / f"cut-{cut}.duckdb", halves, SQL) == whole


def test_a_redelivered_batch_or_a_republished_event_adds_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    batch = ledger.feed(*STORY)
    before = ledger.rows(SQL)
    ledger.deliver(batch)
    ledger.feed(GIVEN)  # the same event again, at a new stream sequence
    assert ledger.rows(SQL) == before


def test_a_rebuild_in_one_batch_equals_applying_one_event_per_batch(tmp_path: Path) -> None:
    one_by_one = rows_after(tmp_path / "live.duckdb", [[e] for e in STORY], SQL)
    assert rows_after(tmp_path / "rebuilt.duckdb", [STORY], SQL) == one_by_one
