"""Projection tables carry no key index: ``RowProjection.apply`` alone keeps one row per key,
whether a row is created and updated in one batch, updated in a later one, or redelivered."""

from pathlib import Path

import pytest

from careledger.ledger.ingest.ingest import OutOfOrder
from tests.unit.ledger.events import (
    CONTACT,
    Ledger,
    an_id,
    at,
    complaint_acknowledged,
    complaint_escalated,
    complaint_filed,
    complaint_resolved,
    consent_given,
    consent_withdrawn,
    contact_closed,
    contact_opened,
    message,
)

STORY = [
    contact_opened(at(0)),
    contact_closed(at(1)),
    consent_given(at(2)),
    consent_withdrawn(at(3)),
    complaint_filed(at(4)),
    complaint_acknowledged(at(5)),
    complaint_escalated(at(6)),
    complaint_resolved(at(7)),
]


def duplicated_keys(ledger: Ledger) -> dict[str, int]:
    """Per table: rows beyond one per key (0 everywhere when the keys hold)."""
    out = {}
    for table in (t for p in ledger.store.projections for t in p.tables):
        out[table.name] = ledger.store.con.execute(
            f"SELECT count(*) - count(DISTINCT ({', '.join(table.key)})) FROM {table.name}"
        ).fetchall()[0][0]
    return out


def test_rows_created_and_updated_in_one_batch_equal_those_built_over_many(
    tmp_path: Path,
) -> None:
    one, many = Ledger(tmp_path / "one.duckdb"), Ledger(tmp_path / "many.duckdb")
    one.feed(*STORY)
    for event in STORY:
        many.feed(event)
    for table in (t for p in one.store.projections for t in p.tables):
        order = ", ".join(table.key)
        assert one.table(table.name, order) == many.table(table.name, order)
    assert set(duplicated_keys(one).values()) == set(duplicated_keys(many).values()) == {0}
    assert one.rows("SELECT status, event_ids FROM contacts") == [
        {"status": "closed", "event_ids": [STORY[0].event_id, STORY[1].event_id]}
    ]


def test_a_row_updated_in_a_later_batch_and_a_redelivered_batch_keep_one_row_per_key(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY[:5])
    later = ledger.feed(*STORY[5:], contact_opened(at(9), contact_id=an_id("second")))
    ledger.deliver(later)  # redelivered after commit: changes nothing
    assert set(duplicated_keys(ledger).values()) == {0}
    assert ledger.rows("SELECT count(*) AS n FROM contacts") == [{"n": 2}]
    assert ledger.rows(f"SELECT status FROM contacts WHERE contact_id = '{CONTACT}'") == [
        {"status": "closed"}
    ]
    assert ledger.rows("SELECT count(*) AS n FROM timeline") == [{"n": len(STORY) + 1}]


def test_a_batch_with_a_gap_is_refused_even_by_an_empty_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    first, _, third = (message(n, e) for n, e in enumerate(STORY[:3], 1))
    with pytest.raises(OutOfOrder, match="expected stream sequence 2, got 3"):
        ledger.deliver([first, third])
    assert ledger.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]
