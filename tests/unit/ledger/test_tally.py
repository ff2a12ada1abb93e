"""Tallies kept batch by batch equal the same query over the whole register; a row that
moves leaves no empty tally row behind; a ledger file without a tally gets it counted
from its register on open, without a rebuild."""

import datetime as dt
import logging
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bench.events import EventFactory, publication, stream

from careledger.ledger.adapters import store as store_module
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.projections import projections
from careledger.ledger.domain.rows import Table
from careledger.ledger.domain.tally import Tally
from careledger.ledger.ingest import tallies
from careledger.ledger.ingest.ingest import LogMessage
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
    Ledger,
    an_id,
    at,
    complaint_acknowledged,
    complaint_filed,
    complaint_resolved,
    stored_at,
)

TALLIED = [(p, t) for p in projections(shipped_policy()) for t in p.tallies]
ODD = [
    # filed and resolved in one batch; resolved again (the first stands)
    complaint_filed(at(0), complaint_id=an_id("t-1")),
    complaint_resolved(at(1), complaint_id=an_id("t-1")),
    complaint_resolved(at(2), complaint_id=an_id("t-1"), outcome="upheld"),
    # resolved by another subject than the one who filed it: no change
    complaint_filed(at(3), complaint_id=an_id("t-2")),
    complaint_resolved(at(4), complaint_id=an_id("t-2"), subject_id=OTHER_SUBJECT),
    # a resolution whose clock says two days before the filing, and one with no filing
    complaint_filed(at(5), complaint_id=an_id("t-3")),
    complaint_acknowledged(at(6), complaint_id=an_id("t-3")),
    complaint_resolved(at(-2 * 24 * 60), complaint_id=an_id("t-3")),
    complaint_resolved(at(7), complaint_id=an_id("t-4")),
]


def rows(con: duckdb.DuckDBPyConnection, table: Table) -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT * FROM {table.name} ORDER BY ALL").fetchall()


def recomputed(con: duckdb.DuckDBPyConnection, tally: Tally, source: Table) -> list[Any]:
    """The tally counted from the whole register, leaving the ledger as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        tallies.recompute(con, tally, source)
        return rows(con, tally.table)
    finally:
        con.execute("ROLLBACK")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """4,000 bench events in batches of 1 to 400, then the odd cases one by one."""
    ledger = Ledger(tmp_path_factory.mktemp("tally") / "ledger.duckdb")
    rng = random.Random(11)
    events = list(stream(EventFactory(rng, subjects=200), 4000))
    messages = [
        LogMessage(seq, *publication(e), recorded_at=stored_at(e))
        for seq, e in enumerate(events, start=1)
    ]
    while messages:
        size = rng.randrange(1, 400)
        ledger.deliver(messages[:size])
        messages = messages[size:]
    ledger.position = ledger.store.position()
    ledger.feed(*ODD[:3])
    for event in ODD[3:]:
        ledger.feed(event)
    yield ledger
    ledger.close()


@pytest.mark.parametrize(("projection", "tally"), TALLIED, ids=[t.name for _, t in TALLIED])
def test_a_tally_kept_batch_by_batch_equals_one_counted_from_the_whole_register(
    ledger: Ledger, projection: Any, tally: Tally
) -> None:
    con = ledger.store.con
    kept = rows(con, tally.table)
    assert len(kept) > 20
    assert kept == recomputed(con, tally, projection.table)


def test_every_complaint_is_received_once_and_closed_at_most_once(ledger: Ledger) -> None:
    [(complaints, resolved)] = ledger.store.con.execute(
        "SELECT count(*), count(resolved_at) FROM complaints"
    ).fetchall()
    [(received, settled, closed)] = ledger.store.con.execute(
        "SELECT sum(received), sum(settled), sum(closed) FROM complaint_days"
    ).fetchall()
    assert (received, settled, closed) == (complaints, resolved, resolved)
    assert resolved > 50


def test_the_resolution_dated_before_the_filing_is_settled_on_the_day_of_filing(
    ledger: Ledger,
) -> None:
    received_day = at(5).date()
    found = ledger.rows(
        "SELECT day, sum(received) AS received, sum(settled) AS settled, sum(closed) AS closed "
        f"FROM complaint_days WHERE day IN ('{received_day}', '{received_day - dt.timedelta(2)}')"
        " GROUP BY day ORDER BY day"
    )
    # t-1 and t-2 are received that day too; t-1 closes then, t-3 two days before
    assert found == [
        {"day": received_day - dt.timedelta(2), "received": 0, "settled": 0, "closed": 1},
        {"day": received_day, "received": 3, "settled": 2, "closed": 1},
    ]


THINGS = Table("things", {"id": "VARCHAR", "color": "VARCHAR", "weight": "BIGINT"}, ("id",))
COLORS = Tally(
    Table("colors", {"color": "VARCHAR", "things": "BIGINT", "weight": "BIGINT"}, ("color",)),
    ("color", "weight"),
    lambda row: [((row["color"],), {"things": 1, "weight": row["weight"]})],
)


def test_a_row_that_moves_to_another_key_leaves_no_empty_row_behind() -> None:
    con = duckdb.connect()
    for table in (THINGS, COLORS.table):
        con.execute(table.ddl())

    def write(before: dict[Any, Any], after: dict[Any, Any]) -> list[tuple[Any, ...]]:
        con.execute("DELETE FROM things")
        con.executemany(
            "INSERT INTO things VALUES (?, ?, ?)", [tuple(r.values()) for r in after.values()]
        )
        tallies.add(con, COLORS, before, after)
        return rows(con, COLORS.table)

    red = {("a",): {"id": "a", "color": "red", "weight": 3}}
    uncoloured = {("a",): {"id": "a", "color": None, "weight": 3}}
    assert write({}, red) == [("red", 1, 3)]
    assert write(red, uncoloured) == [(None, 1, 3)]
    assert write(uncoloured, red) == [("red", 1, 3)] == recomputed(con, COLORS, THINGS)
    heavier = {
        ("a",): red[("a",)] | {"weight": 5},
        ("b",): {"id": "b", "color": "red", "weight": 1},
    }
    assert write(red, heavier) == [("red", 2, 6)] == recomputed(con, COLORS, THINGS)


def test_the_tallies_of_parts_of_a_register_add_up_to_its_tally() -> None:
    con = duckdb.connect()
    for table in (THINGS, COLORS.table):
        con.execute(table.ddl())
    things = [("a", "red", 3), ("b", "red", 1), ("c", None, 2), ("d", "blue", 4)]
    con.executemany("INSERT INTO things VALUES (?, ?, ?)", things)
    for part in (things[:2], things[1:3], things[3:]):  # overlapping keys across parts
        tallies.add(con, COLORS, {}, {(i,): {"id": i, "color": c, "weight": w} for i, c, w in part})
    tallies.collapse(con, COLORS)
    assert rows(con, COLORS.table) == [("blue", 1, 4), ("red", 3, 5), (None, 1, 2)]


def test_a_ledger_file_without_its_tallies_counts_them_on_open_without_a_rebuild(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    ledger = Ledger(path)
    ledger.feed(*ODD)
    expected = {t.name: rows(ledger.store.con, t.table) for _, t in TALLIED}
    ledger.close()
    names = list(expected)
    old = duckdb.connect(str(path))  # as a file written before tallies
    for name in names:
        old.execute(f"DROP TABLE {name}")
    old.execute("DELETE FROM projection_versions WHERE name IN (SELECT unnest(?))", [names])
    old.close()

    def no_rebuild(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("the registers are up to date: nothing is rebuilt")

    monkeypatch.setattr(store_module, "rebuild_projections", no_rebuild)
    with caplog.at_level(logging.WARNING):
        store = LedgerStore(path, shipped_policy())
    try:
        assert {t.name: rows(store.con, t.table) for _, t in TALLIED} == expected
        assert all(expected.values())
        said = [r.getMessage() for r in caplog.records]
        assert not [m for m in said if "rebuilding" in m]
        assert len([m for m in said if m.startswith("counting")]) == len(TALLIED)
    finally:
        store.close()
