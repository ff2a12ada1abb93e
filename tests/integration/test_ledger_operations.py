"""Operating the ledger: consumer settings, transient failures, rebuild and export."""

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from careledger.contracts.subjects import EVENT_STREAM
from careledger.ledger import duck
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.projections import projections
from careledger.ledger.domain.rows import Rows
from careledger.ledger.queries.export import export
from careledger.stack.nats_server import NatsServer
from tests.integration.ledger_support import ledger_bench
from tests.support.events import contact_pair
from tests.support.policy import shipped_policy


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        t.name: con.execute(f"SELECT * FROM {t.name} ORDER BY {', '.join(t.key)}").fetchall()
        for p in projections(shipped_policy())
        for t in p.tables
    }


async def test_an_existing_durable_with_other_settings_is_replaced_on_start(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "a.duckdb") as bench:
        await bench.consumer.close()
        await bench.js.delete_consumer(EVENT_STREAM, "ledger")
        await bench.js.add_consumer(
            EVENT_STREAM,
            ConsumerConfig(durable_name="ledger", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=3),
        )
        await bench.runner.start()
        info = await bench.js.consumer_info(EVENT_STREAM, "ledger")
    assert info.config.ack_policy == AckPolicy.ALL
    assert info.config.max_ack_pending == 4000


class FailsOnce:
    """A projection's ``evolve`` whose first call fails, as a full disk or a busy file
    would fail its write: the batch's commit fails with it."""

    def __init__(self, inner: Callable[[Rows, Applied], None]) -> None:
        self.inner, self.failed = inner, False

    def __call__(self, rows: Rows, applied: Applied) -> None:
        if not self.failed:
            self.failed = True
            raise OSError("No space left on device")
        self.inner(rows, applied)


async def test_a_failed_commit_acks_nothing_and_the_batch_applies_once_afterwards(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "b.duckdb", batch=10) as bench:
        first, *rest = bench.store.projections
        assert isinstance(first, RowProjection)
        flaky = FailsOnce(first.evolve)
        bench.store.projections = (dataclasses.replace(first, evolve=flaky), *rest)
        last = await bench.publish([e for _ in range(10) for e in contact_pair()])
        stop = asyncio.Event()
        task = asyncio.create_task(bench.runner.run(stop))
        for _ in range(100):
            if bench.runner.position.sequence >= last:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await task
        events = bench.store.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        contacts = bench.store.con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    assert flaky.failed
    assert (events, contacts) == (20, 10)


async def rebuild(db: Path) -> subprocess.CompletedProcess[str]:
    """`careledger ledger rebuild --db FILE`, as an operator runs it."""
    command = [sys.executable, "-m", "careledger.ledger.entrypoints.cli", "ledger", "rebuild"]
    return await asyncio.to_thread(
        subprocess.run, [*command, "--db", str(db)], capture_output=True, text=True, timeout=60
    )


async def test_rebuild_from_the_command_line_gives_the_same_registers(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    db = tmp_path / "c.duckdb"
    async with ledger_bench(nats_server, db, batch=7) as bench:
        await bench.apply_until(await bench.publish([e for _ in range(25) for e in contact_pair()]))
        before = snapshot(bench.store.con)
    done = await rebuild(db)
    assert done.returncode == 0, done.stderr
    assert "50/50" in done.stderr
    store = LedgerStore(db, shipped_policy())
    try:
        assert snapshot(store.con) == before
    finally:
        store.close()


async def test_rebuild_refuses_a_file_the_running_ledger_holds(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    db = tmp_path / "d.duckdb"
    async with ledger_bench(nats_server, db):
        done = await rebuild(db)
    assert done.returncode == 2
    assert "Stop the ledger first" in done.stderr


async def test_exporting_the_same_log_twice_gives_identical_bytes_and_manifest(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "e.duckdb") as bench:
        await bench.apply_until(await bench.publish([e for _ in range(5) for e in contact_pair()]))
        kept = bench.store.projections
        first = export(bench.store.con, tmp_path / "x1", "parquet", kept)
        second = export(bench.store.con, tmp_path / "x2", "parquet", kept)
    assert first == second
    assert first["log_position"]["sequence"] == 10
    for entry in first["files"]:
        a, b = (tmp_path / d / entry["file"] for d in ("x1", "x2"))
        assert a.read_bytes() == b.read_bytes()
    assert {f["table"]: f["rows"] for f in first["files"]}["events"] == 10
    timeline = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'x1' / 'timeline.parquet'}')")
    assert "subject_id" in timeline.columns and "subject_key" not in timeline.columns


async def test_an_idle_ledger_stays_ready_whatever_timeout_an_empty_fetch_raises(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "f.duckdb") as bench:

        async def times_out(*_: object, **__: object) -> list[object]:
            raise TimeoutError  # what nats-py 2.16 sometimes raises when idle

        bench.consumer._sub.fetch = times_out  # type: ignore[union-attr,method-assign]
        applied = [await bench.runner.step() for _ in range(3)]
    assert applied == [0, 0, 0]
    assert bench.runner.health.applying and bench.runner.health.last_error is None


CRASH_AFTER_WRITING = """
import os, sys
from careledger.ledger import duck
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import load_policy
store = LedgerStore(sys.argv[1], load_policy({}))
store.con.execute("CREATE TABLE filler AS SELECT range AS n FROM range(200000)")
os._exit(0)  # no close, no checkpoint: what SIGKILL leaves behind
"""


def test_opening_the_store_folds_a_crash_wal_into_the_file(tmp_path: Path) -> None:
    db = tmp_path / "g.duckdb"
    wal = db.with_name(db.name + ".wal")
    subprocess.run([sys.executable, "-c", CRASH_AFTER_WRITING, str(db)], check=True, timeout=60)
    left = wal.stat().st_size
    store = LedgerStore(db, shipped_policy())
    try:
        folded = wal.stat().st_size if wal.exists() else 0
        assert store.con.execute("SELECT count(*) FROM filler").fetchall() == [(200000,)]
    finally:
        store.close()
    assert left > 0 and folded == 0


def test_what_the_store_spills_goes_beside_its_file_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    db = tmp_path / "data" / "s.duckdb"
    db.parent.mkdir()
    store = LedgerStore(db, shipped_policy())
    try:
        store.con.execute("SET memory_limit = '32MB'")
        spilled = store.con.execute(
            "SELECT count(*) FROM (SELECT md5(range::VARCHAR) AS s, count(*) "
            "FROM range(2000000) GROUP BY s HAVING count(*) > 1)"
        ).fetchall()
        assert spilled == [(0,)]
        assert db.with_name("s.duckdb.tmp").is_dir()
        assert list(work.iterdir()) == []
    finally:
        store.close()


def test_a_scratch_database_spills_to_the_system_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    con = duck.scratch("32MB")
    try:
        spilled = con.execute(
            "SELECT count(*) FROM (SELECT md5(range::VARCHAR) AS s, count(*) "
            "FROM range(2000000) GROUP BY s HAVING count(*) > 1)"
        ).fetchall()
        assert spilled == [(0,)]
        assert duck.SCRATCH_SPILL.is_dir()
        assert list(tmp_path.iterdir()) == []
    finally:
        con.close()
