"""The row machinery: a projection's ``evolve`` sees the same rows whatever the batches."""

from pathlib import Path
from typing import Any

import duckdb
import pytest

from careledger.contracts import encode
from careledger.contracts.events import ContactClosed, ContactOpened, Event
from careledger.contracts.subjects import event_subject
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.rows import Key, Rows, Table
from careledger.ledger.ingest import tables
from tests.unit.ledger.events import (
    Ledger,
    an_id,
    at,
    contact_closed,
    contact_opened,
    stored_at,
)

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
    return Applied(
        sequence, event, b"", event_subject(event), encode(event), recorded_at=stored_at(event)
    )


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
            tables.apply(store.con, APPENDING, [applied(e, sequence) for e in batch])
    rows = store.con.sql("SELECT contact_id, event_ids FROM lineage").fetchall()
    assert sorted(rows) == sorted(
        [
            (one, [batches[0][0].event_id, batches[1][0].event_id, batches[2][0].event_id]),
            (two, [batches[1][1].event_id, batches[2][1].event_id]),
        ]
    )


class Statements:
    """A connection that keeps the DELETE statements it is asked to run."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.deletes = con, []

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        if sql.startswith("DELETE"):
            self.deletes.append(sql)
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


@pytest.mark.parametrize("in_transaction", [True, False])
def test_rows_are_replaced_by_rowid_only_inside_the_transaction_that_read_them(
    tmp_path: Path, in_transaction: bool
) -> None:
    """Autocommit (a rebuild in parts, a replay) may checkpoint between the load and the
    delete, and a checkpoint may move rows: there the rows are deleted by key."""
    con = duckdb.connect(str(tmp_path / "rows.duckdb"))
    tables.create(con, APPENDING)
    spy = Statements(con)
    one, two = an_id("one"), an_id("two")
    batches = [
        [contact_opened(at(0), contact_id=one), contact_opened(at(1), contact_id=two)],
        [contact_closed(at(2), contact_id=one), contact_closed(at(3), contact_id=two)],
    ]
    if in_transaction:
        con.execute("BEGIN TRANSACTION")
    for sequence, batch in enumerate(batches):
        tables.apply(spy, APPENDING, [applied(e, sequence) for e in batch])  # type: ignore[arg-type]
    if in_transaction:
        con.execute("COMMIT")
    rows = con.sql("SELECT contact_id, event_ids FROM lineage ORDER BY contact_id").fetchall()
    con.close()
    pairs = zip(*batches, strict=True)  # each contact's opening and closure
    assert rows == sorted((o.contact_id, [o.event_id, c.event_id]) for o, c in pairs)
    assert len(spy.deletes) == 1
    assert ("WHERE rowid IN" in spy.deletes[0]) is in_transaction
