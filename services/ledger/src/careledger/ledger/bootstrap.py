"""The composition root of the ledger: NATS, the DuckDB store, the consumer loop, HTTP."""

import asyncio
import logging
import os
from collections.abc import Mapping
from contextlib import suppress

import nats
from litestar import Litestar
from nats.aio.client import Client

from careledger.contracts.subjects import EVENT_STREAM
from careledger.ledger.adapters import checkpoints
from careledger.ledger.adapters.access_log import AccessLog
from careledger.ledger.adapters.auditors import Auditor, Auditors, load_auditors
from careledger.ledger.adapters.checkpoint_stream import CheckpointStream
from careledger.ledger.adapters.consumer import LedgerConsumer
from careledger.ledger.adapters.dead_letters import DeadLetters
from careledger.ledger.adapters.signing_key import SigningKeyError, load_signer
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.adapters.stream_reader import stream_messages
from careledger.ledger.deadlines import load_policy
from careledger.ledger.domain.note import (
    NoteError,
    Signer,
    Verifier,
    open_by_any,
    parse_checkpoint,
    verifier_from_text,
    verifier_of,
)
from careledger.ledger.domain.projection import Projection
from careledger.ledger.domain.projections import projections
from careledger.ledger.entrypoints.http import create_app
from careledger.ledger.entrypoints.personal import OPEN_PATHS
from careledger.ledger.ingest.runner import LedgerRunner, Signing
from careledger.ledger.queries.integrity import Integrity, check_at_open
from careledger.ledger.queries.verify import Report, verify
from careledger.ledger.settings import (
    AUDITORS_FILE,
    CHECKPOINT_KEY_FILE,
    RETIRED_KEYS_FILE,
    Settings,
)
from careledger.runtime import until_connected
from careledger.runtime.gate import Gate
from careledger.runtime.streams import (
    StreamMissing,
    access_stream_config,
    check_stream,
    checkpoint_stream_config,
    dlq_stream_config,
    event_stream_config,
)
from careledger.vault.bucket import open_vault_bucket
from careledger.vault.master_key import ENV_KEY, ENV_KEY_FILE, master_key_from_env
from careledger.vault.store import JetStreamVault, VaultEntryMissing

log = logging.getLogger(__name__)


def _has_master_key(env: Mapping[str, str]) -> bool:
    return bool(env.get(ENV_KEY) or env.get(ENV_KEY_FILE))


def _gate(auditors: Auditors, settings: Settings) -> Gate[Auditor]:
    """Who may ask; PrincipalsFileError without anyone, unless insecure dev."""
    where = (AUDITORS_FILE, settings.auditors_file)
    return Gate.closed(auditors, where, settings, service="the ledger", open_paths=OPEN_PATHS)


def _retired(settings: Settings) -> list[Verifier]:
    """The verifier keys rotated out: old checkpoints stay checkable by them."""
    path = settings.retired_keys_file
    if path is None:
        return []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise SigningKeyError(f"{RETIRED_KEYS_FILE}={path}: cannot read it: {exc}") from None
    keys = []
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                keys.append(verifier_from_text(line.strip()))
            except NoteError as exc:
                message = f"{RETIRED_KEYS_FILE}={path}, line {number}: {exc}"
                raise SigningKeyError(message) from None
    return keys


def _signer(settings: Settings) -> Signer:
    """The key checkpoints are signed with; SigningKeyError without one (fail closed)."""
    if settings.checkpoint_key_file is None:
        raise SigningKeyError(
            f"{CHECKPOINT_KEY_FILE} is not set: the ledger signs its checkpoints with a key "
            "file (mode 0600); create one with `careledger admin checkpoint-key --origin NAME "
            "--out FILE`"
        )
    return load_signer(settings.checkpoint_key_file)


class LedgerService:
    """The ledger as one running unit: it alone writes its DuckDB file and serves queries."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.auditors = load_auditors(settings.auditors_file)  # a bad file stops us here
        self.gate = _gate(self.auditors, settings)  # so does no file (fail closed)
        self.signer = _signer(settings)  # and no signing key
        self.verifier: Verifier = verifier_of(self.signer)
        self.verifiers = [self.verifier, *_retired(settings)]  # and the keys rotated out
        self.integrity = Integrity()
        env = os.environ if environ is None else environ
        self.policy = load_policy(env)  # so do bad regime, calendar or body-deadline files
        self.master_key = master_key_from_env(env) if _has_master_key(env) else None
        self.vault: JetStreamVault | None = None
        self.vault_missing = VaultEntryMissing
        self.access_log: AccessLog | None = None
        self.nc: Client | None = None
        self.store: LedgerStore | None = None
        self.runner: LedgerRunner | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._verifying: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.gate.warn_if_insecure()
        self.nc = await self._connect()
        js = self.nc.jetstream()
        await self._wait_for_streams()
        self.access_log = AccessLog(js)
        if self.master_key is not None:
            self.vault = JetStreamVault(await open_vault_bucket(js), self.master_key)
        self.settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        # Off the event loop: opening may rebuild registers an upgrade changed.
        self.store = await asyncio.to_thread(
            LedgerStore,
            self.settings.db_path,
            self.policy,
            rebuild_workers=self.settings.rebuild_workers,
        )
        self.integrity = Integrity()
        published = await self._published(js)
        problems = await asyncio.to_thread(self._check_at_open, published)
        if problems:  # neither consume nor serve until an operator acts
            self.integrity.settle(problems)
            log.error("the ledger's file failed its check at open: %s", "; ".join(problems))
        else:
            self._start_runner(js)
        self._verifying = asyncio.create_task(self._verify_in_background(js))

    async def _published(self, js: nats.js.JetStreamContext) -> str | None:
        """The last checkpoint on the stream (None if none, or if it cannot be read now:
        the check at open then has the file's own to go by)."""
        try:
            return await CheckpointStream(js).latest()
        except Exception as exc:
            log.warning("the checkpoint stream cannot be read: %s", exc)
            return None

    def _start_runner(self, js: nats.js.JetStreamContext) -> None:
        assert self.store is not None and self.nc is not None
        consumer = LedgerConsumer(
            js,
            durable=self.settings.consumer,
            batch=self.settings.batch_size,
            fetch_timeout=self.settings.fetch_timeout,
        )
        self.runner = LedgerRunner(
            self.store,
            consumer,
            DeadLetters(js, max_payload=self.nc.max_payload),
            checkpoint_every=self.settings.wal_checkpoint_every,
        )
        self._stop.clear()
        self._task = asyncio.create_task(self.runner.run(self._stop))

    def _check_at_open(self, published: str | None) -> list[str]:
        assert self.store is not None
        cursor = self.store.cursor()
        try:
            return check_at_open(cursor, self.verifiers, published)
        except LookupError as exc:  # a checkpoint row beyond the stored tree, say
            return [f"the file's tree cannot give a signed root: {exc}"]
        finally:
            cursor.close()

    async def _verify_in_background(self, js: nats.js.JetStreamContext) -> None:
        """The full verify, once at start. Passed: the runner starts signing checkpoints.
        Failed: the runner stops (not ready, registers refused) until an operator acts."""
        while True:
            try:
                report = await self.verify()
                break
            except Exception as exc:  # NATS away, say: the file's checks wait for it
                log.warning("the background verify could not run, trying again: %s", exc)
                await asyncio.sleep(5)
        self.integrity.settle(report.problems)
        if not report.ok:
            log.error("the ledger failed its verify: %s", "; ".join(report.problems))
            self._stop.set()
            if self.runner is not None:
                self.runner.health.applying = False
                self.runner.health.last_error = "integrity: " + "; ".join(report.problems)
        elif self.runner is not None:
            await self._sign_from_now(js, self.runner)

    async def _sign_from_now(self, js: nats.js.JetStreamContext, runner: LedgerRunner) -> None:
        assert self.store is not None
        stream = CheckpointStream(js)
        published = await self._published(js)
        size = 0
        if published is not None:
            with suppress(NoteError):
                size = parse_checkpoint(open_by_any(published, self.verifiers)).size
        cursor = self.store.cursor()
        try:
            unpublished = await asyncio.to_thread(checkpoints.after, cursor, size)
        finally:
            cursor.close()
        every = self.settings.checkpoint_every
        runner.sign_from_now(Signing(self.signer, every, stream.publish), unpublished)

    async def _connect(self) -> Client:
        access = self.settings.nats()

        async def connect() -> Client:
            return await nats.connect(
                **access.connect_options(),
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                connect_timeout=2,
            )

        return await until_connected(connect, access.where)

    async def _wait_for_streams(self) -> None:
        """The streams it reads and writes, as provisioned: it waits for a missing one (the
        admin's step may still be running) and refuses one that differs (StreamMismatch)."""
        assert self.nc is not None
        js = self.nc.jetstream()
        streams = self.settings.streams
        for wanted in (
            event_stream_config(streams),
            dlq_stream_config(streams),
            access_stream_config(streams),
            checkpoint_stream_config(streams),
        ):
            while True:
                try:
                    await check_stream(js, wanted)
                    break
                except StreamMissing as missing:
                    log.warning("waiting: %s", missing)
                    await asyncio.sleep(1)

    async def stop(self) -> None:
        self._stop.set()
        if self._verifying is not None:
            self._verifying.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._verifying
        if self._task is not None:
            with suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        if self.store is not None:
            self.store.close()
        if self.nc is not None:
            with suppress(Exception):
                await self.nc.close()

    async def stream_last_sequence(self) -> int | None:
        if self.nc is None or not self.nc.is_connected:
            return None
        try:
            info = await self.nc.jetstream().stream_info(EVENT_STREAM)
        except Exception:
            return None
        return int(info.state.last_seq)

    async def verify(self) -> Report:
        """Chain, stream and rebuild checks on a cursor of the live store."""
        assert self.store is not None and self.nc is not None
        cursor = self.store.cursor()
        cursor.execute("BEGIN TRANSACTION")  # one consistent snapshot while the ledger applies
        try:
            held = cursor.execute("SELECT sequence FROM ledger_position").fetchall()
            until = held[0][0] if held else 0  # what the stream holds beyond is lag, not loss
            stream = stream_messages(self.nc.jetstream(), until=until)
            return await verify(cursor, stream, self.store.projections)
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()

    async def store_answers(self) -> bool:
        """Whether the DuckDB file answers a query (False while DuckDB has invalidated it,
        until the runner opens it again)."""
        store = self.store
        if store is None:
            return False

        def probe() -> bool:
            cursor = store.cursor()
            try:
                return bool(cursor.execute("SELECT count(*) FROM ledger_position").fetchall())
            finally:
                cursor.close()

        try:
            return await asyncio.to_thread(probe)
        except Exception:
            return False

    def projections(self) -> tuple[Projection, ...]:
        """The projections the store keeps (those of the policy until it is open)."""
        return self.store.projections if self.store is not None else projections(self.policy)

    def is_connected(self) -> bool:
        return bool(self.nc and self.nc.is_connected)

    def http_app(self) -> Litestar:
        return create_app(self)
