"""A register's pages: in its order, each row once, whatever rows batches rewrote.

A plain table's page is found by ``rowid`` before its columns are read; a row a later batch
changes is deleted and inserted again (a new rowid), so pages are checked after that too.
"""

from pathlib import Path

from careledger.ledger.queries.registers import REGISTERS, query
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import Ledger, an_id, at, contact_closed, contact_opened

SUBJECT = an_id("subject")


def _ledger(path: Path) -> Ledger:
    ledger = Ledger(path)
    # Pairs of contacts opened at the same instant: the order's second column decides.
    ledger.feed(
        *(
            contact_opened(at(i // 2), subject_id=SUBJECT, contact_id=an_id(f"c{i}"))
            for i in range(23)
        )
    )
    # Closing every third rewrites its row after the others.
    ledger.feed(
        *(
            contact_closed(at(30), subject_id=SUBJECT, contact_id=an_id(f"c{i}"))
            for i in range(0, 23, 3)
        )
    )
    return ledger


def test_pages_follow_the_registers_order_and_hold_each_row_once(tmp_path: Path) -> None:
    con = _ledger(tmp_path / "l.duckdb").store.cursor()
    whole = [
        (row["opened_at"], row["contact_id"], row["status"])
        for row in query(con, REGISTERS["contacts"], {}, shipped_policy(), limit=1000)["items"]
    ]
    assert whole == sorted(whole) and len(whole) == 23
    assert sum(status == "closed" for _, _, status in whole) == 8
    paged = []
    for offset in range(0, 30, 5):
        page = query(con, REGISTERS["contacts"], {}, shipped_policy(), limit=5, offset=offset)
        assert page["total"] == 23
        paged += [(r["opened_at"], r["contact_id"], r["status"]) for r in page["items"]]
    assert paged == whole


def test_a_filtered_page_counts_and_orders_only_the_matching_rows(tmp_path: Path) -> None:
    con = _ledger(tmp_path / "l.duckdb").store.cursor()
    first = query(con, REGISTERS["contacts"], {"status": "open"}, shipped_policy(), limit=10)
    second = query(
        con, REGISTERS["contacts"], {"status": "open"}, shipped_policy(), limit=10, offset=10
    )
    assert first["total"] == second["total"] == 15
    ids = [r["contact_id"] for r in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 15
    assert {r["status"] for r in first["items"] + second["items"]} == {"open"}
    keys = [(r["opened_at"], r["contact_id"]) for r in first["items"] + second["items"]]
    assert keys == sorted(keys)
