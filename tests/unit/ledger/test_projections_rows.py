"""The row machinery: a projection's ``evolve`` sees the same rows whatever the batches."""

from pathlib import Path

from careledger.contracts.events import ContactClosed, ContactOpened
from careledger.ledger.application.applied import Applied
from careledger.ledger.projections._rows import Key, RowProjection, Rows, Table
from tests.unit.ledger.events import Ledger, at, contact_closed, contact_opened

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


def test_a_list_column_changed_in_place_is_saved_even_when_the_row_came_from_an_earlier_batch(
    tmp_path: Path,
) -> None:
    opened, closed = contact_opened(at(0)), contact_closed(at(5))
    ledger = Ledger(tmp_path / "l.duckdb", projections=[APPENDING])
    ledger.feed(opened)
    ledger.feed(closed)
    [row] = ledger.rows("SELECT * FROM lineage")
    assert row["event_ids"] == [opened.event_id, closed.event_id]
