"""The duplicate check asks 8-byte keys of the event ids, and the ids decide."""

from pathlib import Path

import duckdb
import pytest

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.event_key import key_of
from careledger.ledger.queries.verify import Report, verify_event_keys
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import Ledger, an_id, at, contact_closed, contact_opened

OPENED = contact_opened(at(0), contact_id=an_id("c1"))
CLOSED = contact_closed(at(1), contact_id=an_id("c1"))


def test_a_key_is_fixed_by_md5_so_files_and_versions_agree() -> None:
    """MD5("abc") is 900150983cd24fb0d6963f7d28e17f72 (RFC 1321's test suite); the key is
    its first 8 bytes, as written by one version and asked by the next."""
    con = duckdb.connect()
    keys = con.execute(f"SELECT {key_of('id')} FROM (VALUES ('abc'), ('')) AS t(id)").fetchall()
    assert keys == [(0x900150983CD24FB0,), (0xD41D8CD98F00B204,)]


def test_an_event_republished_long_after_is_refused_as_a_duplicate(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED, CLOSED)
    ledger.feed(OPENED)  # past the stream's duplicate window: a new stream sequence
    rejected = ledger.rows("SELECT sequence, rule FROM rejected")
    assert rejected == [{"sequence": 3, "rule": "duplicate_event_id"}]
    assert ledger.rows("SELECT count(*) AS n FROM event_keys") == [{"n": 2}]


def test_an_id_whose_key_matches_another_event_is_not_taken_for_it(tmp_path: Path) -> None:
    """Keys can collide; the id read by sequence decides."""
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED)
    stranger = an_id("never-applied")
    ledger.store.con.execute(f"UPDATE event_keys SET key = {key_of('?')}", [stranger])
    assert ledger.store.known([stranger]) == set()
    ledger.close()


def test_a_file_written_before_the_keys_gets_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(OPENED, CLOSED)
    ledger.close()
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE event_keys")
    con.close()

    store = LedgerStore(path, shipped_policy())
    try:
        assert store.known([OPENED.event_id, CLOSED.event_id, an_id("new")]) == {
            OPENED.event_id,
            CLOSED.event_id,
        }
        report = Report()
        verify_event_keys(store.con, report)
        assert report.ok, report.problems
    finally:
        store.close()


@pytest.mark.parametrize(
    ("tampering", "problem"),
    [
        ("DELETE FROM event_keys WHERE sequence = 2", "sequence 2: missing key"),
        ("UPDATE event_keys SET key = key + 1 WHERE sequence = 2", "sequence 2: a key that is not"),
        ("INSERT INTO event_keys SELECT * FROM event_keys WHERE sequence = 3", "sequence 3: more"),
        ("INSERT INTO event_keys VALUES (9, 1)", "sequence 9: a key without an event"),
    ],
)
def test_verify_names_the_first_event_whose_key_is_missing_wrong_or_extra(
    tmp_path: Path, tampering: str, problem: str
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(OPENED, CLOSED, contact_opened(at(2), contact_id=an_id("c2")))
    intact = Report()
    verify_event_keys(ledger.store.con, intact)
    ledger.store.con.execute(tampering)
    report = Report()
    verify_event_keys(ledger.store.con, report)
    ledger.close()
    assert intact.ok, intact.problems
    assert len(report.problems) == 1 and report.problems[0].startswith(problem), report.problems
