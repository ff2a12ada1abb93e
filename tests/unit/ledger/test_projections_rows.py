"""The row machinery: a projection's ``evolve`` sees the same rows whatever the batches."""

from pathlib import Path

from careledger.contracts import encode
from careledger.contracts.events import ContactClosed, ContactOpened, Event
from careledger.contracts.subjects import event_subject
from careledger.ledger.application.applied import Applied
from careledger.ledger.projections._rows import Key, RowProjection, Rows, Table
from tests.unit.ledger.events import Ledger, an_id, at, contact_closed, contact_opened

TABLE = Table("lineage", {"contact_id": "VARCHAR", "event_ids": "VARCHAR[]"}, ("contact_id",))


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, ContactOpened | ContactClosed)
    return [(applied.event.contact_id,)]


def evolve_appending_in_place(rows: Rows, applied: Applied) -> None:
    event = applied.event
    assert isinstance(event, ContactOpened | ContactClosed)
    row = rows.setdefault((event.contact_id,), {"contact_id": event.contact_id, "event_ids": []})
    row["event_ids"].append(event.event_id)


APPENDING = RowProjection(TABLE, (ContactOpened, ContactClosed), keys_of, evolve_appending_in_place)


def applied(event: Event, sequence: int) -> Applied:
    return Applied(sequence, event, b"", event_subject(event), encode(event))


def test_a_list_column_changed_in_place_is_saved_even_when_the_row_came_from_an_earlier_batch(
    tmp_path: Path,
) -> None:
    opened, closed = contact_opened(at(0)), contact_closed(at(5))
    ledger = Ledger(tmp_path / "l.duckdb", projections=[APPENDING])
    ledger.feed(opened)
    ledger.feed(closed)
    [row] = ledger.rows("SELECT * FROM lineage")
    assert row["event_ids"] == [opened.event_id, closed.event_id]


def test_batches_folded_in_one_transaction_find_the_rows_the_earlier_ones_wrote(
    tmp_path: Path,
) -> None:
    """As a rebuild folds its chunks: rows written, replaced and read again before the
    transaction commits (rows found by rowid must include the transaction's own)."""
    store = Ledger(tmp_path / "l.duckdb", projections=[APPENDING]).store
    one, two = an_id("one"), an_id("two")
    batches = [
        [contact_opened(at(0), contact_id=one)],
        [contact_closed(at(1), contact_id=one), contact_opened(at(2), contact_id=two)],
        [contact_closed(at(3), contact_id=one), contact_closed(at(4), contact_id=two)],
    ]
    with store.transaction():
        for sequence, batch in enumerate(batches):
            APPENDING.apply(store.con, [applied(e, sequence) for e in batch])
    rows = store.con.sql("SELECT contact_id, event_ids FROM lineage").fetchall()
    assert sorted(rows) == sorted(
        [
            (one, [batches[0][0].event_id, batches[1][0].event_id, batches[2][0].event_id]),
            (two, [batches[1][1].event_id, batches[2][1].event_id]),
        ]
    )
