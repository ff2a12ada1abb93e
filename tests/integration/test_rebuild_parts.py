"""A rebuild folded by several processes gives the rows one process gives, fails whole,
and reports its progress. Workers are real ``python -m`` processes on real DuckDB files."""

import os
import random
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bench.events import EventFactory, publication, stream

from careledger.contracts import InvalidPayload, decode_event
from careledger.ledger.adapters import rebuild_parts
from careledger.ledger.adapters.log_tables import SCHEMA
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.projections import projections
from careledger.ledger.domain.references import Ref
from careledger.ledger.ingest.ingest import LogMessage, ingest
from careledger.ledger.ingest.rebuild import rebuild_projections
from careledger.ledger.settings import Settings
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
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
    escalation_decided,
    stored_at,
    subject_erased,
    with_first,
)

# Events by another subject than the row's, and a second opening of a contact id: each
# must reach the rows of its id whatever part it falls in, and change nothing there.
CROSSING = [
    contact_opened(at(0), subject_id=OTHER_SUBJECT),
    contact_opened(at(1)),  # the same contact id: the first opening stands
    contact_closed(at(2)),  # by another subject than the contact's: no change
    consent_given(at(3), contact_id=None),
    consent_withdrawn(at(4), subject_id=OTHER_SUBJECT),
    complaint_filed(at(5)),
    complaint_acknowledged(at(6), subject_id=OTHER_SUBJECT),
    complaint_escalated(at(7), to_level="consumer_office", from_level="frontline"),
    complaint_resolved(at(8)),
    escalation_decided(at(9), level="consumer_office"),
    subject_erased(at(10)),
]


def ledger_of(path: Path, count: int = 3000) -> Ledger:
    ledger = Ledger(path)
    ledger.feed(*CROSSING)
    if not count:
        return ledger
    factory = EventFactory(random.Random(7), subjects=300)
    messages = [
        LogMessage(sequence, *publication(event), recorded_at=stored_at(event))
        for sequence, event in enumerate(stream(factory, count), start=len(CROSSING) + 1)
    ]
    for start in range(0, count, 1000):
        ledger.deliver(messages[start : start + 1000])
    return ledger


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of every projection, its tallies' too, in a stable order."""
    return {
        t.name: con.execute(
            f"SELECT {', '.join(t.columns)} FROM {t.name} ORDER BY {', '.join(t.columns)}"
        ).fetchall()
        for p in projections(shipped_policy())
        for t in p.tables
    }


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_parts, "MIN_EVENTS", 0)


FELL_BACK = "rebuilding in one process"  # what rebuild_projections logs when workers fail


def rebuilt_in_two_gives_the_live_rows(tmp_path: Path) -> None:
    """A ledger of 500 bench events rebuilt with two workers holds the rows it held."""
    ledger = ledger_of(tmp_path / "l.duckdb", count=500)
    con, kept, policy = ledger.store.con, ledger.store.projections, ledger.store.policy
    live = tables(con)
    with ledger.store.transaction():
        assert rebuild_projections(con, con, kept, workers=2, policy=policy) == len(CROSSING) + 500
        assert tables(con) == live


def at_worker_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Run ``code`` as each worker starts (a sitecustomize on the workers' path only)."""
    start = tmp_path / "worker-start"
    start.mkdir()
    (start / "sitecustomize.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", str(start))  # read by new processes, not this one


@pytest.mark.usefixtures("any_size")
def test_three_workers_give_the_rows_of_the_live_ledger_and_of_one_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = ledger_of(tmp_path / "l.duckdb")
    con, kept, policy = ledger.store.con, ledger.store.projections, ledger.store.policy
    live = tables(con)
    assert all(live.values()), [name for name, rows in live.items() if not rows]
    seen: list[tuple[int, int]] = []
    with ledger.store.transaction():
        done = rebuild_projections(
            con, con, kept, progress=lambda d, t: seen.append((d, t)), workers=3, policy=policy
        )
        in_parts = tables(con)
        con.execute("ROLLBACK")
        con.execute("BEGIN TRANSACTION")
    one = duckdb.connect()
    assert rebuild_projections(con, one, kept) == done == len(CROSSING) + 3000
    assert in_parts == live == tables(one)
    assert seen[-1] == (done, done)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert FELL_BACK not in caplog.text  # the workers did it, not one process after them


@pytest.mark.usefixtures("any_size")
def test_a_payload_no_process_can_fold_fails_the_rebuild_and_changes_nothing(
    tmp_path: Path,
) -> None:
    ledger = ledger_of(tmp_path / "l.duckdb", count=1000)
    con, kept, policy = ledger.store.con, ledger.store.projections, ledger.store.policy
    before = tables(con)
    con.execute("UPDATE events SET payload = ? WHERE sequence = 500", [b'{"not": "an event"}'])
    worker_says = pytest.raises(
        rebuild_parts.RebuildFailed, match=r"(?s)rebuild worker \d exited with 1: .*InvalidPayload"
    )
    with worker_says, ledger.store.transaction():
        rebuild_parts.rebuild(con, con, kept, policy, None, workers=2, total=1000)
    with pytest.raises(InvalidPayload), ledger.store.transaction():
        # the workers fail, then one process does
        rebuild_projections(con, con, kept, workers=2, policy=policy)
    assert tables(con) == before


@pytest.mark.usefixtures("any_size")
def test_when_the_workers_die_one_process_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """As when a worker is killed for its memory: the rebuild still completes."""
    at_worker_start(tmp_path, monkeypatch, "raise SystemExit(3)\n")
    rebuilt_in_two_gives_the_live_rows(tmp_path)
    assert f"{FELL_BACK}: rebuild worker" in caplog.text


def _elsewhere(con: duckdb.DuckDBPyConnection, of: str) -> str:
    """An id that DuckDB's hash puts in the other of two parts than ``of``."""
    for i in range(100):
        decoy = an_id(f"decoy-{i}")
        mine, other = con.execute("SELECT hash(?) % 2, hash(?) % 2", [decoy, of]).fetchall()[0]
        if mine != other:
            return decoy
    raise AssertionError("no decoy found")


class BeforeTheRule:
    """The store as ingest asked it before ambiguous consent payloads were refused: the
    consent id SQL reads is taken to be the one the event decodes to."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def known(self, event_ids: Collection[str]) -> set[str]:
        return self.store.known(event_ids)

    def existing(self, refs: Collection[Ref]) -> set[Ref]:
        return self.store.existing(refs)

    def consent_ids(self, payloads: Sequence[bytes]) -> list[str | None]:
        return [getattr(decode_event(p), "consent_id", None) for p in payloads]

    def latest_of_subjects(self, subject_ids: Collection[str]) -> dict[str, int]:
        return self.store.latest_of_subjects(subject_ids)


@pytest.mark.usefixtures("any_size")
def test_the_split_follows_the_decoded_event_not_the_payloads_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An erasure with a field its type does not have, and a withdrawal naming its consent
    id twice, land with the rows they change (the split read the JSON once and lost the
    withdrawal, and made a second erasure row). The withdrawal's JSON still says another
    consent id than it decodes to: its worker says so, and one process rebuilds. (Ingest
    refuses such a withdrawal now; a file written before that rule may hold one.)"""
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(consent_given(at(0), contact_id=None), subject_erased(at(1)))
    con = ledger.store.con
    withdrawal = consent_withdrawn(at(2), purposes=["call_recording"])
    again = subject_erased(at(3))
    odd = [
        with_first(withdrawal, "consent_id", _elsewhere(con, withdrawal.consent_id)),
        with_first(again, "consent_id", _elsewhere(con, again.subject_id)),
    ]
    messages = [replace(m, sequence=s) for m, s in zip(odd, (3, 4), strict=True)]
    outcome = ingest(messages, ledger.position, BeforeTheRule(ledger.store))
    ledger.store.commit(outcome, ledger.position)
    live = tables(con)
    states = {(row[1], row[21]) for row in live["consents"]}  # purpose, state
    assert states == {("call_recording", "withdrawn"), ("quality_assurance", "given")}
    assert len(live["erasures"]) == 1
    with ledger.store.transaction():
        rebuild_projections(
            con, con, ledger.store.projections, workers=2, policy=ledger.store.policy
        )
        assert tables(con) == live
    assert "names another consent id in its JSON than it decodes to" in caplog.text


def test_one_process_rebuilds_a_small_log_or_a_projection_a_worker_cannot_name() -> None:
    big, policy = rebuild_parts.MIN_EVENTS, shipped_policy()
    shipped = projections(policy)
    assert not rebuild_parts.worth_it(shipped, policy, big - 1, workers=2)
    assert not rebuild_parts.worth_it(shipped, policy, big, workers=1)
    assert rebuild_parts.worth_it(shipped, policy, big, workers=2)
    assert not rebuild_parts.worth_it([], policy, big, workers=2)  # nothing to fold, to copy

    first = shipped[0]
    assert isinstance(first, RowProjection)
    # same name and table, other code: a worker would fold the policy's one
    renamed = replace(first, evolve=lambda rows, applied: None)
    assert not rebuild_parts.worth_it([renamed], policy, big, workers=2)


def test_every_event_falls_in_exactly_one_part(tmp_path: Path) -> None:
    ledger = ledger_of(tmp_path / "l.duckdb", count=500)
    out = tmp_path / "events.parquet"
    rebuild_parts._copy_events(ledger.store.con, out, workers=3)
    parts = duckdb.sql(
        f"SELECT part, count(*) FROM read_parquet('{out}') GROUP BY part ORDER BY part"
    ).fetchall()
    assert [p for p, _ in parts] == [0, 1, 2]
    assert sum(n for _, n in parts) == len(CROSSING) + 500
    assert min(n for _, n in parts) > 0.2 * (len(CROSSING) + 500)


def test_events_of_one_row_share_a_part(tmp_path: Path) -> None:
    """The contract the split rests on: every event naming one contact, consent or
    complaint id (whoever its subject) is in the same part."""
    ledger = ledger_of(tmp_path / "l.duckdb", count=0)
    out = tmp_path / "events.parquet"
    rebuild_parts._copy_events(ledger.store.con, out, workers=7)
    by_sequence = dict(duckdb.sql(f"SELECT sequence, part FROM read_parquet('{out}')").fetchall())
    contact = [by_sequence[s] for s in (1, 2, 3)]
    consent = [by_sequence[s] for s in (4, 5)]
    complaint = [by_sequence[s] for s in (6, 7, 8, 9, 10)]
    assert len(set(contact)) == len(set(consent)) == len(set(complaint)) == 1


@pytest.mark.usefixtures("any_size")
def test_other_output_on_a_workers_stdout_is_not_taken_for_its_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """DuckDB draws its progress bar on stdout (blank lines, once a query passes 2 s); a
    blank line once read as the worker's end and failed the rebuild."""
    noise = "\\r[=====>      ] 40%\\r\\n\\nfinished 7\\n"
    at_worker_start(tmp_path, monkeypatch, f"import sys\nsys.stdout.write('{noise}')\n")
    rebuilt_in_two_gives_the_live_rows(tmp_path)
    assert FELL_BACK not in caplog.text  # the workers did it, not one process after them


def test_the_ledger_is_told_how_many_processes_rebuild_on_open(tmp_path: Path) -> None:
    assert Settings.from_env({}).rebuild_workers == 0  # one per available core
    assert Settings.from_env({"CARELEDGER_REBUILD_WORKERS": "3"}).rebuild_workers == 3
    store = LedgerStore(tmp_path / "s.duckdb", shipped_policy(), rebuild_workers=3)
    try:
        store.reopen()
        assert store.rebuild_workers == 3
    finally:
        store.close()
    assert 1 <= rebuild_parts.default_workers() <= (os.cpu_count() or 1)


@pytest.mark.usefixtures("any_size")
def test_the_work_is_done_beside_the_ledger_file_and_what_a_killed_rebuild_left_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = ledger_of(tmp_path / "l.duckdb", count=200)
    copies: list[Path] = []
    copy = rebuild_parts._copy_events
    monkeypatch.setattr(
        rebuild_parts, "_copy_events", lambda s, path, w: (copies.append(path), copy(s, path, w))
    )
    left = tmp_path / "l.duckdb.rebuild-killed"  # as a rebuild killed by SIGKILL leaves it
    (left / "events.parquet").parent.mkdir()
    (left / "events.parquet").write_bytes(b"a copy of the log")
    before = sorted(p.name for p in tmp_path.iterdir() if p != left)
    con = ledger.store.con
    with ledger.store.transaction():
        rebuild_projections(
            con, con, ledger.store.projections, workers=2, policy=ledger.store.policy
        )
    assert [c.parent.parent for c in copies] == [tmp_path]
    assert copies[0].parent.name.startswith("l.duckdb.rebuild-")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert FELL_BACK not in caplog.text


def test_the_copy_of_the_log_fits_in_a_bounded_memory_whatever_its_row_groups(
    tmp_path: Path,
) -> None:
    """A file written before the store chose 16k-row groups, or written to since by a plain
    DuckDB connection (its checkpoint merges the groups), has DuckDB's 122,880: copied
    in order, its payloads were buffered a row group per thread, and a 1M-event file ran
    out of the store's 128MB (a rebuild after an upgrade could not open the ledger). Here
    250k synthetic events of 640 bytes under 100MB show the same: one row group of their
    payloads is 78MB, so a copy that buffers one per thread (two threads here) cannot fit,
    while an unordered copy fits with room to spare on a busy machine (at 64MB it sometimes
    did not)."""
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute(SCHEMA)
    con.execute(
        "INSERT INTO events SELECT i, uuid(), 'careledger.events.contact.c', 'ContactOpened', "
        "'contact', uuid(), uuid(), now(), now(), repeat(md5(i::VARCHAR), 20)::BLOB, "
        "''::BLOB, ''::BLOB, now(), 'server' FROM range(1, 250001) AS t(i)"
    )
    con.execute("CHECKPOINT")
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '100MB'")
    rebuild_parts._copy_events(con, tmp_path / "events.parquet", 2)
    copied = con.execute(
        f"SELECT count(*), count(DISTINCT sequence), max(sequence) "
        f"FROM read_parquet('{tmp_path / 'events.parquet'}')"
    ).fetchall()
    assert copied == [(250_000, 250_000, 250_000)]
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall() == [(True,)]
    con.close()
