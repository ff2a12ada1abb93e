"""The disk under the ledger's DuckDB file stops taking writes, and is fixed later: the
ledger acks nothing it could not commit, says why it is not ready, and resumes by itself
with every event applied exactly once.

Two real faults on a running ledger process (a real nats-server, a real DuckDB file):

- **file size limit** (runs everywhere): ``prlimit(RLIMIT_FSIZE)`` on the ledger's PID, set to
  the current size of its WAL. Every write past that offset, in any file, fails with EFBIG
  ("File too large"; Python ignores SIGXFSZ), exactly where a full disk fails with ENOSPC.
  Raising the soft limit again "fixes the disk". (We run as root, so a read-only chmod does
  not stop writes; raising the *hard* limit needs CAP_SYS_RESOURCE, so only the soft limit
  is lowered.)
- **disk full** (where the test may mount): the database lives on a tiny tmpfs of its own,
  filled to the last byte by another file (ENOSPC, "No space left on device"); deleting
  that file fixes it. Skipped with the reason when mounting is not permitted (not root, or
  no CAP_SYS_ADMIN), and unmounted afterwards.

The ledger's output goes through a pipe to the test, so its log is not a file the fault
could stop it from writing.
"""

import asyncio
import resource
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
import pytest
from nats.js import JetStreamContext

from careledger.contracts.subjects import EVENT_STREAM
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.adapters.stream_reader import stream_messages
from careledger.ledger.deadlines import load_policy
from careledger.ledger.queries.verify import verify
from careledger.stack.nats_server import NatsServer
from tests.support.events import contact_pair, publication
from tests.support.ledger_process import LedgerProcess
from tests.support.nats import connect

pytestmark = pytest.mark.integration

PAIRS_BEFORE = 10  # 20 events applied before the fault
PAIRS_DURING = 15  # 30 events published while the disk refuses writes
CHECKPOINT_EVERY = 4.0  # seconds idle before a checkpoint, in the at-checkpoint case


@dataclass
class PipedLedger(LedgerProcess):
    """The ledger process with its output piped to a file the test writes."""

    checkpoint_every: float = 3600.0

    def start(self, timeout: float = 30.0) -> "PipedLedger":
        env = self.environment() | {
            "CARELEDGER_LEDGER_CHECKPOINT_EVERY": str(self.checkpoint_every)
        }
        log_path = self.log_path or self.db_path.with_suffix(".log")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "careledger.ledger.entrypoints.serve",
                *("--nats", self.nats_url, "--db", str(self.db_path), "--port", str(self.port)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        self._pump = threading.Thread(target=_pump, args=(self.process, log_path), daemon=True)
        self._pump.start()
        self.wait_until_healthy(timeout, exited=lambda: f":\n{log_path.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        super().stop()
        self._pump.join(10)

    def log(self) -> str:
        return (self.log_path or self.db_path.with_suffix(".log")).read_text(errors="replace")

    def readyz(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as response:
                return response.status, msgspec.json.decode(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, msgspec.json.decode(exc.read())


def _pump(process: subprocess.Popen[bytes], log_path: Path) -> None:
    assert process.stdout is not None
    with process.stdout, log_path.open("ab") as log:
        for line in process.stdout:
            log.write(line)
            log.flush()


class DiskFault(Protocol):
    reason: str  # what /readyz must name

    def break_(self, pid: int, db: Path) -> None: ...
    def fix(self, pid: int) -> None: ...


class FileSizeLimit:
    reason = "File too large"

    def break_(self, pid: int, db: Path) -> None:
        wal = db.with_name(db.name + ".wal")
        limit = wal.stat().st_size if wal.exists() else 0
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    def fix(self, pid: int) -> None:
        resource.prlimit(
            pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )


@dataclass
class FullDisk:
    mount: Path
    reason = "No space left on device"

    @property
    def filler(self) -> Path:
        return self.mount / "filler"

    def break_(self, pid: int, db: Path) -> None:
        with self.filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        free = shutil.disk_usage(self.mount).free
        assert free < 65536, f"{free} bytes still free on the tmpfs"

    def fix(self, pid: int) -> None:
        self.filler.unlink()


@contextmanager
def tmpfs(path: Path, size: str = "16m") -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): disk-full not run")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@dataclass
class Case:
    disk: DiskFault
    directory: Path  # of the DuckDB file
    at_checkpoint: bool = False  # the first write refused is an idle checkpoint


@pytest.fixture(params=["file-size-limit", "disk-full", "file-size-limit-at-checkpoint"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "disk-full":
        with tmpfs(tmp_path / "disk") as mount:
            yield Case(FullDisk(mount), mount)
    else:
        yield Case(FileSizeLimit(), tmp_path, at_checkpoint=request.param.endswith("checkpoint"))


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    """The admin's, to look at the consumer and read the stream back."""
    nc = await connect(nats_server)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


@pytest.fixture
async def publisher(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await connect(nats_server, "publisher")
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def publish(js: JetStreamContext, pairs: int) -> list[str]:
    ids = []
    for _ in range(pairs):
        for event in contact_pair():
            subject, data, headers = publication(event)
            await js.publish(subject, data, headers=headers)
            ids.append(event.event_id)
    return ids


async def eventually(what: str, probe: Any, within: float = 60.0) -> Any:
    """Poll ``probe`` (sync, run in a thread) until it returns something truthy."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(probe)
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {within} s; last: {last!r}")


def wal_folded(db: Path) -> bool:
    """The WAL was checkpointed into the file (DuckDB removes or empties it)."""
    wal = db.with_name(db.name + ".wal")
    return not wal.exists() or wal.stat().st_size == 0


async def test_a_disk_that_refuses_writes_stops_the_ledger_acking_until_it_is_fixed(
    nats_server: NatsServer,
    js: JetStreamContext,
    publisher: JetStreamContext,
    case: Case,
    tmp_path: Path,
) -> None:
    disk, db = case.disk, case.directory / "ledger.duckdb"
    ledger = PipedLedger(nats_server.access("ledger"), db, log_path=tmp_path / "ledger.log")
    if case.at_checkpoint:
        ledger.checkpoint_every = CHECKPOINT_EVERY
    ledger.start()
    try:
        published = await publish(publisher, PAIRS_BEFORE)
        await asyncio.to_thread(ledger.wait_caught_up, len(published))
        if case.at_checkpoint:
            # Right after an idle checkpoint, apply a few more events: the WAL holds them
            # when the disk breaks, and the next idle checkpoint is the first write refused.
            await eventually("an idle checkpoint", lambda: wal_folded(db))
            published += await publish(publisher, 2)
            await asyncio.to_thread(ledger.wait_caught_up, len(published))
            assert not wal_folded(db)
        before = len(published)
        assert ledger.process is not None
        pid = ledger.process.pid

        def unready() -> dict[str, Any] | None:
            status, body = ledger.readyz()
            return body if status == 503 and body["last_error"] else None

        disk.break_(pid, db)
        if case.at_checkpoint:
            body = await eventually("a failed idle checkpoint", unready)
            print(f"\n/readyz after the idle checkpoint failed: {body}")
            assert "checkpoint" in body["last_error"], body
            assert body["checks"]["duckdb"] is False, "DuckDB invalidates the database"
        published += await publish(publisher, PAIRS_DURING)
        last = len(published)

        # Not ready, and why; nothing past the fault applied or acknowledged.
        body = await eventually("/readyz answers 503 with the reason", unready)
        print(f"\n/readyz while the disk refuses writes: {body}")
        assert disk.reason in body["last_error"], body
        assert "\n" not in body["last_error"] and len(body["last_error"]) < 400, body
        assert body["checks"]["consumer"] is False, body

        # At least two failed attempts (the first and a retry) and still nothing acked.
        await eventually(
            "a second failed attempt", lambda: ledger.log().count("batch not applied") >= 2
        )
        position = ledger.get("/v1/ledger/position")
        print(f"/v1/ledger/position while the disk refuses writes: {position}")
        assert position["ledger_sequence"] == before, position
        assert position["stream_sequence"] == last and position["lag"] == last - before
        assert position["applying"] is False and disk.reason in position["last_error"]
        consumer = await js.consumer_info(EVENT_STREAM, "ledger")
        assert consumer.ack_floor is not None
        assert consumer.ack_floor.stream_seq == before, consumer.ack_floor
        assert ledger.readyz()[0] == 503

        disk.fix(pid)
        fixed = time.monotonic()
        caught_up = await asyncio.to_thread(ledger.wait_caught_up, last, 60.0)
        resumed = time.monotonic() - fixed
        ready = await eventually("/readyz answers 200", lambda: ledger.readyz()[0] == 200)
        print(f"resumed {resumed:.1f} s after the fix: {caught_up}; ready: {ready}")
        assert ledger.process.pid == pid and ledger.process.poll() is None
        report = ledger.get("/v1/ledger/verify")
        assert report["ok"] and report["events"] == report["stream_messages"] == last, report
    finally:
        ledger.stop()

    store = LedgerStore(db, load_policy())  # as the ledger process: this environment's
    try:
        rows = store.con.execute("SELECT event_id FROM events ORDER BY sequence").fetchall()
        offline = await verify(store.con, stream_messages(js), store.projections)
    finally:
        store.close()
    assert [row[0] for row in rows] == published  # each exactly once, in stream order
    assert offline.ok, offline.problems
