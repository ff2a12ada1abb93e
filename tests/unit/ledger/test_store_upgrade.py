"""Opening a ledger file written by an older version: a register that is missing or has
other columns is rebuilt from the events; the others are left as they are."""

import datetime as dt
import time
from pathlib import Path

import duckdb
import pytest

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.projections import timeline
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    Ledger,
    Stored,
    complaint_escalated,
    complaint_extended,
    complaint_filed,
    contact_closed,
    contact_opened,
    escalation_decided,
)

T = dt.datetime(2026, 3, 23, 9, 0, tzinfo=dt.UTC)
STORY = [
    complaint_filed(T, jurisdiction="ES-MD"),
    complaint_extended(T + dt.timedelta(days=5), new_deadline=dt.date(2026, 5, 1)),
    complaint_escalated(
        T + dt.timedelta(days=40),
        from_level="frontline",
        to_level="consumer_office",
        body_name="OMIC Madrid",
        initiated_by="customer",
    ),
    escalation_decided(T + dt.timedelta(days=90), level="consumer_office", decision="upheld"),
]


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_older_file_gets_its_changed_and_missing_registers_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(*STORY)
    ledger.close()
    complaints = rows(path, "SELECT * FROM complaints")
    decisions = rows(path, "SELECT * FROM escalation_decisions")
    timeline = rows(path, "SELECT * FROM timeline ORDER BY sequence")
    # What an older version left: no decisions register, complaints without extensions.
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE escalation_decisions")
    con.execute("ALTER TABLE complaints DROP COLUMN extended_to")
    con.execute("UPDATE timeline SET type = 'untouched'")  # same columns: not rebuilt
    con.close()

    LedgerStore(path, shipped_policy()).close()

    assert rows(path, "SELECT * FROM complaints") == complaints
    assert rows(path, "SELECT * FROM escalation_decisions") == decisions
    assert len(decisions) == 1
    assert {r[4] for r in rows(path, "SELECT * FROM timeline")} == {"untouched"}
    assert len(rows(path, "SELECT * FROM timeline")) == len(timeline)


def test_cursors_read_instants_in_utc_whatever_the_host_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    store = LedgerStore(tmp_path / "l.duckdb", shipped_policy())
    try:
        cursor = store.cursor()
        assert cursor.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
    finally:
        store.close()
        monkeypatch.undo()
        time.tzset()


def test_a_register_built_by_older_rules_is_rebuilt_and_a_current_one_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(contact_opened(T), contact_closed(T + dt.timedelta(minutes=5)))
    ledger.close()
    outcome = rows(path, "SELECT outcome FROM contacts")
    con = duckdb.connect(str(path))
    con.execute("UPDATE contacts SET outcome = 'by older rules'")
    con.execute("UPDATE projection_versions SET version = version - 1 WHERE name = 'contacts'")
    con.close()

    LedgerStore(path, shipped_policy()).close()

    assert rows(path, "SELECT outcome FROM contacts") == outcome
    versions = dict(rows(path, "SELECT name, version FROM projection_versions"))
    assert versions["contacts"] == 2


def test_a_register_of_the_current_version_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(contact_opened(T))
    ledger.close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE contacts SET agent = 'left alone'")
    con.close()

    LedgerStore(path, shipped_policy()).close()

    assert rows(path, "SELECT agent FROM contacts") == [("left alone",)]


def test_events_applied_before_the_ledger_read_the_servers_clock_keep_their_claim_marked_as_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(*STORY)
    ledger.close()
    claims = [e.recorded_at for e in STORY]
    # What an older version left: recorded_at was the publisher's claim, everywhere.
    con = duckdb.connect(str(path))
    con.execute("UPDATE events SET recorded_at = claimed_recorded_at")
    con.execute("ALTER TABLE events DROP COLUMN recorded_clock")
    con.execute("ALTER TABLE events DROP COLUMN claimed_recorded_at")
    con.execute("UPDATE timeline SET recorded_at = '1999-01-01 00:00:00+00'")
    con.execute("UPDATE projection_versions SET version = 2 WHERE name = 'timeline'")
    con.close()

    LedgerStore(path, shipped_policy()).close()
    LedgerStore(path, shipped_policy()).close()  # once upgraded, opened as it is

    events = rows(
        path,
        "SELECT recorded_at, claimed_recorded_at, recorded_clock FROM events ORDER BY sequence",
    )
    assert events == [(claim, claim, "publisher") for claim in claims]
    assert rows(path, "SELECT recorded_at FROM timeline ORDER BY sequence") == [
        (claim,) for claim in claims
    ]
    versions = dict(rows(path, "SELECT name, version FROM projection_versions"))
    assert versions["timeline"] == timeline.PROJECTION.version > 2

    later = Ledger(path)
    later.position = later.store.position()
    later.feed(Stored(contact_opened(T), T + dt.timedelta(hours=1)))
    later.close()
    assert rows(path, "SELECT recorded_at, recorded_clock FROM events WHERE sequence = 5") == [
        (T + dt.timedelta(hours=1), "server")
    ]
