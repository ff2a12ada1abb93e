"""The fault suite: load through intake while the services are killed and restarted.

A load driver tells thousands of coherent customer-care stories (``tests/support/scenario``)
through intake, over HTTP and NATS request/reply, each command with its own
Idempotency-Key, retrying every 503, connection error and timeout with the *same* key until
a definitive answer (2xx or 4xx) or a deadline. Meanwhile three fault loops, side by side,
SIGKILL the ledger, SIGKILL intake while requests are in flight, and restart nats-server
(SIGTERM, then the same port and store), their faults spread over the run by progress.

At the end, with every service up and the ledger caught up, :func:`check` compares what the
callers were told with what the stream and the ledger hold: every 2xx exactly once in the
stream and exactly once in the ledger, nothing in the stream that nobody was told about
(except commands whose answer never came), the chain and the projections verified.

Every process is started here and stopped by its PID.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
from nats.aio.client import Client

from careledger.contracts.subjects import EVENT_STREAM, IDEMPOTENCY_KEY, command_subject
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.adapters.stream_reader import stream_messages
from careledger.ledger.deadlines import load_policy
from careledger.ledger.queries.verify import verify
from careledger.runtime.nats import NatsAccess
from careledger.stack.nats_server import NatsServer, free_port
from tests.support.ledger_process import LedgerProcess
from tests.support.nats import connect, service_env
from tests.support.principals import Principals, write_principals
from tests.support.scenario import Story
from tests.support.streams import stored_messages

STATUS_HEADER = "CareLedger-Status"

EVENT_OF = {
    "open-contact": "ContactOpened",
    "close-contact": "ContactClosed",
    "give-consent": "ConsentGiven",
    "withdraw-consent": "ConsentWithdrawn",
    "file-complaint": "ComplaintFiled",
    "acknowledge-complaint": "ComplaintAcknowledged",
    "escalate-complaint": "ComplaintEscalated",
    "resolve-complaint": "ComplaintResolved",
    "erase-subject": "SubjectErased",
}


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """How much load and how many faults; ``short`` runs in ``make test``, ``long`` in
    ``make chaos`` (ten times the commands and the faults). The seed fixes the shape of a
    run (story lengths, deliberate refusals, transports, replays, fault phases), not the
    ids and keys, which are fresh every time."""

    scale: str
    commands: int
    concurrency: int = 16
    ledger_kills: int = 3
    intake_kills: int = 3
    nats_restarts: int = 2
    command_deadline: float = 60.0  # seconds of retrying one command before giving up
    http_timeout: float = 10.0
    nats_timeout: float = 6.0
    replay_share: float = 0.05  # share of 2xx commands sent once more with the same key
    seed: int = 0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Plan:
        env = os.environ if environ is None else environ
        scale = env.get("CARELEDGER_CHAOS_SCALE", "short") or "short"
        seed = int(env.get("CARELEDGER_CHAOS_SEED") or secrets.randbelow(2**31))
        if scale == "short":
            return cls(scale, commands=1500, seed=seed)
        if scale == "long":
            return cls(
                scale,
                commands=15_000,
                ledger_kills=30,
                intake_kills=30,
                nats_restarts=20,
                seed=seed,
            )
        raise ValueError(f"CARELEDGER_CHAOS_SCALE={scale!r}: expected 'short' or 'long'")

    @property
    def faults(self) -> int:
        return self.ledger_kills + self.intake_kills + self.nats_restarts


# ----------------------------------------------------------------------------- commands


@dataclass
class Command:
    """One command as the caller knows it: what it sent and what it was finally told."""

    story: int
    name: str
    payload: dict[str, Any]
    key: str
    transport: str  # "http" or "nats"
    subject_id: str
    expect_refusal: bool = False  # deliberately against the rules of its story
    attempts: int = 0
    status: int | None = None  # the definitive answer (2xx/4xx); None: never came
    last_status: int | None = None  # the last 5xx seen, when no definitive answer came
    event_id: str | None = None
    replayed: bool = False
    rule: str | None = None  # of a 4xx: the rule named by its first error
    seen: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def event_type(self) -> str:
        return EVENT_OF[self.name]

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    @property
    def unknown(self) -> bool:
        return self.status is None


def stories(plan: Plan, rng: random.Random) -> list[list[Command]]:
    """Coherent stories until ``plan.commands`` commands: most told to the end, some cut
    short, a few with one command their story's rules must refuse (4xx)."""
    told: list[list[Command]] = []
    total = 0
    while total < plan.commands:
        index = len(told)
        story = Story()
        steps = story.commands()
        if rng.random() < 0.3:  # a story still going on when the run ends
            steps = steps[: rng.randint(1, len(steps) - 1)]
        commands = [_command(index, story, name, payload, rng) for name, payload in steps]
        names = [name for name, _ in steps]
        if rng.random() < 0.1:
            extra = _refusable(story, names, rng)
            if extra is not None:
                commands.insert(extra[0], _command(index, story, *extra[1:], rng, refuse=True))
        told.append(commands)
        total += len(commands)
    return told


def _command(
    index: int,
    story: Story,
    name: str,
    payload: dict[str, Any],
    rng: random.Random,
    refuse: bool = False,
) -> Command:
    return Command(
        story=index,
        name=name,
        payload=payload,
        key=f"chaos-{name}-{secrets.token_hex(12)}",
        transport=rng.choice(("http", "nats")),
        subject_id=story.subject_id,
        expect_refusal=refuse,
    )


def _refusable(
    story: Story, names: list[str], rng: random.Random
) -> tuple[int, str, dict[str, Any]] | None:
    """(position, command, payload) of a command the story's history must refuse."""
    again = dict(Story(story.subject_id, story.contact_id, story.complaint_id).commands())
    options: list[tuple[int, str, dict[str, Any]]] = []
    if "resolve-complaint" in names:  # resolved twice: 409
        options.append(
            (names.index("resolve-complaint") + 1, "resolve-complaint", again["resolve-complaint"])
        )
    if "give-consent" in names:  # a pre-ticked box is not consent: 422
        ticked = again["give-consent"] | {"mechanism": "pre_ticked_box", "consent_id": _uuid()}
        ticked.pop("contact_id", None)
        options.append((names.index("give-consent"), "give-consent", ticked))
    if "erase-subject" in names:  # nothing new about an erased subject
        reopened = again["open-contact"] | {"contact_id": _uuid()}
        options.append((len(names), "open-contact", reopened))
    return rng.choice(options) if options else None


def _uuid() -> str:
    return str(uuid.uuid4())


# ----------------------------------------------------------------------------- processes


@dataclass
class IntakeProcess:
    """``python -m careledger.intake.entrypoints.cli`` on a fixed port, managed by PID."""

    nats_url: str
    env: dict[str, str]  # with intake's NATS credentials (``tests.support.nats.service_env``)
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    principals: Principals | None = None  # default: a fresh clients file beside the log

    def __post_init__(self) -> None:
        if self.principals is None:
            self.principals = write_principals(self.log_path.with_name("intake-principals"))
        self.env = self.env | self.principals.service_env()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        """The bearer token of the clients file's client (every command, ``crm-madrid``)."""
        assert self.principals is not None
        return self.principals.intake_token

    def start(self, timeout: float = 30.0) -> IntakeProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "careledger.intake.entrypoints.cli",
                    "--port",
                    str(self.port),
                    "--nats",
                    self.nats_url,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"intake exited with {self.process.returncode}:\n{tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"intake did not answer /healthz:\n{tail(self.log_path)}")

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, sig)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def readiness(url: str) -> str:
    """The ledger's /readyz answer, for the record (the suite does not judge it)."""
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
            return f"{response.status} {response.read().decode()}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read().decode()}"
    except OSError as exc:
        return repr(exc)


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return f"({path} unreadable)"


@dataclass
class Stack:
    """nats-server, intake and the ledger as real processes in one directory."""

    tmp: Path
    nats: NatsServer
    intake: IntakeProcess
    ledger: LedgerProcess

    @property
    def db_path(self) -> Path:
        return self.ledger.db_path

    def logs(self) -> str:
        return "\n".join(
            f"--- {name} ({path}) ---\n{tail(path)}"
            for name, path in (
                ("nats-server", self.tmp / "nats" / "nats-server.log"),
                ("intake", self.intake.log_path),
                ("ledger", self.tmp / "ledger.log"),
            )
        )


def provision(server: NatsServer, env: dict[str, str]) -> None:
    """``careledger admin provision`` as the admin, before any service starts (as ``make run``
    and a deployment do)."""
    subprocess.run(
        [sys.executable, "-m", "careledger.ledger.entrypoints.cli", "admin", "provision"],
        env=env | service_env(server, "admin"),
        check=True,
        capture_output=True,
        timeout=60,
    )


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """Start all three; stop whatever is still running by PID on the way out."""
    env = {k: v for k, v in os.environ.items() if k != "CARELEDGER_MASTER_KEY_FILE"}
    env["CARELEDGER_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    server = NatsServer(tmp / "nats", privacy_channels=("channel",))  # it erases over NATS too
    intake: IntakeProcess | None = None
    ledger: LedgerProcess | None = None
    try:
        server.start()
        provision(server, env)
        intake = IntakeProcess(
            server.url, env | service_env(server, "intake"), tmp / "intake.log"
        ).start()
        ledger = LedgerProcess(
            server.access("ledger"), tmp / "ledger.duckdb", log_path=tmp / "ledger.log"
        ).start()
        yield Stack(tmp, server, intake, ledger)
    finally:
        if ledger is not None:
            ledger.stop()
        if intake is not None:
            intake.stop()
        server.stop()


# ----------------------------------------------------------------------------- load


@dataclass
class Replay:
    """A command answered 2xx, sent once more with the same key afterwards."""

    command: Command
    status: int | None
    event_id: str | None
    replayed: bool


class LoadDriver:
    """``concurrency`` callers, each telling one story at a time, command after command."""

    def __init__(
        self, plan: Plan, intake_url: str, nats: NatsAccess, rng: random.Random, *, token: str
    ) -> None:
        self.plan = plan
        self.intake_url = intake_url
        self.token = token  # intake's bearer token for the HTTP commands
        self.nats = nats  # a channel's, for the commands sent over NATS
        self.rng = rng
        self.in_flight = 0
        self.finished = False
        self.done = 0
        self._progress = asyncio.Condition()
        self.replays: list[Replay] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self._http: httpx.AsyncClient | None = None
        self._nc: Client | None = None

    async def run(self, told: list[list[Command]]) -> None:
        queue: asyncio.Queue[list[Command]] = asyncio.Queue()
        for story in told:
            queue.put_nowait(story)
        self._nc = await nats.connect(
            **self.nats.connect_options(), max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        self._http = httpx.AsyncClient(
            base_url=self.intake_url,
            limits=httpx.Limits(max_connections=self.plan.concurrency),
            headers={"Authorization": f"Bearer {self.token}"},
        )
        try:
            await asyncio.gather(*(self._caller(queue) for _ in range(self.plan.concurrency)))
        finally:
            async with self._progress:
                self.finished = True
                self._progress.notify_all()
            await self._http.aclose()
            await self._nc.close()

    async def _caller(self, queue: asyncio.Queue[list[Command]]) -> None:
        while True:
            try:
                story = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for command in story:
                await self.send(command)
                async with self._progress:
                    self.done += 1
                    self._progress.notify_all()
                if command.accepted and self.rng.random() < self.plan.replay_share:
                    await self._replay(command)

    async def reached(self, done: int) -> None:
        """Returns once ``done`` commands have their final answer (or all are done)."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.done >= done or self.finished)

    async def send(self, command: Command) -> None:
        """Until a definitive answer or the deadline, always with the same key."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.plan.command_deadline
        body = json.dumps(command.payload).encode()
        backoff = 0.1
        while True:
            command.attempts += 1
            status, reply, retry_after = await self._attempt(command, command.transport, body)
            if status is not None:
                command.seen[str(status)] += 1
                if status < 500:
                    command.status = status
                    if 200 <= status < 300:
                        command.event_id = reply["event_id"]
                        command.replayed = bool(reply.get("replayed"))
                    else:
                        errors = reply.get("errors") or [{}]
                        command.rule = str(errors[0].get("rule"))
                    return
                command.last_status = status
                wait = min(retry_after or 1.0, 2.0)
            else:
                wait = backoff
                backoff = min(backoff * 2, 1.0)
            if loop.time() + wait > deadline:
                return  # outcome unknown: it may or may not have been recorded
            await asyncio.sleep(wait)

    async def _replay(self, command: Command) -> None:
        """The same key again, maybe on the other transport: the same event, replayed."""
        transport = self.rng.choice(("http", "nats"))
        body = json.dumps(command.payload).encode()
        for _ in range(60):
            status, reply, _ = await self._attempt(command, transport, body, count=False)
            if status is not None and status < 500:
                self.replays.append(
                    Replay(
                        command,
                        status,
                        reply.get("event_id") if reply else None,
                        bool(reply and reply.get("replayed")),
                    )
                )
                return
            await asyncio.sleep(0.5)
        self.replays.append(Replay(command, None, None, False))

    async def _attempt(
        self, command: Command, transport: str, body: bytes, count: bool = True
    ) -> tuple[int | None, dict[str, Any], float | None]:
        """(status or None on a transport failure, reply JSON, Retry-After)."""
        self.in_flight += 1
        try:
            if transport == "http":
                return await self._over_http(command, body)
            return await self._over_nats(command, body)
        except (TimeoutError, httpx.TransportError, nats.errors.Error, OSError) as exc:
            name = type(exc).__name__
            self.errors[name] += 1
            if count:
                command.seen[name] += 1
            return None, {}, None
        finally:
            self.in_flight -= 1

    async def _over_http(
        self, command: Command, body: bytes
    ) -> tuple[int | None, dict[str, Any], float | None]:
        assert self._http is not None
        response = await self._http.post(
            f"/v1/commands/{command.name}",
            content=body,
            headers={"Content-Type": "application/json", IDEMPOTENCY_KEY: command.key},
            timeout=self.plan.http_timeout,
        )
        retry_after = response.headers.get("Retry-After")
        return (
            response.status_code,
            _json(response.content),
            float(retry_after) if retry_after else None,
        )

    async def _over_nats(
        self, command: Command, body: bytes
    ) -> tuple[int | None, dict[str, Any], float | None]:
        assert self._nc is not None
        msg = await self._nc.request(
            command_subject(command.name),
            body,
            timeout=self.plan.nats_timeout,
            headers={IDEMPOTENCY_KEY: command.key},
        )
        status = (msg.headers or {}).get(STATUS_HEADER)
        if status is None:
            self.errors["reply without status"] += 1
            return None, {}, None
        return int(status), _json(msg.data), None


def _json(data: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(data)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


# ----------------------------------------------------------------------------- faults


@dataclass
class Fault:
    kind: str  # "ledger-kill", "intake-kill", "nats-restart"
    at_command: int
    in_flight: int
    during_load: bool
    down_seconds: float


@dataclass
class Incident:
    """Something the harness did not cause: a service exited by itself, or on start."""

    service: str
    what: str
    log: str


class FaultLoop:
    """One loop per kind of fault, running side by side, each spreading its faults evenly
    over 5%..90% of the commands (by the driver's progress, so faults always meet load).

    A watchdog restarts a service that exits by itself and records it as an incident."""

    def __init__(self, plan: Plan, stack: Stack, driver: LoadDriver, rng: random.Random) -> None:
        self.plan = plan
        self.stack = stack
        self.driver = driver
        self.rng = rng
        self.done: list[Fault] = []
        self.incidents: list[Incident] = []
        self._locks = {"ledger": asyncio.Lock(), "intake": asyncio.Lock()}
        self._stopped = asyncio.Event()

    async def run(self, total: int) -> None:
        plan = self.plan
        watchdog = asyncio.create_task(self._watchdog())
        try:
            await asyncio.gather(
                self._loop("ledger-kill", plan.ledger_kills, total),
                self._loop("intake-kill", plan.intake_kills, total),
                self._loop("nats-restart", plan.nats_restarts, total),
            )
        finally:
            self._stopped.set()
            await watchdog

    async def _loop(self, kind: str, count: int, total: int) -> None:
        start, end = total * 0.05, total * 0.9
        phase = self.rng.uniform(0.0, 0.9)
        for i in range(count):
            await self.driver.reached(int(start + (end - start) * (i + phase) / count))
            if kind == "intake-kill":
                await self._wait_for_requests_in_flight()
            at, in_flight = self.driver.done, self.driver.in_flight
            during_load = not self.driver.finished
            began = time.monotonic()
            await getattr(self, kind.replace("-", "_"))()
            self.done.append(Fault(kind, at, in_flight, during_load, time.monotonic() - began))

    async def _wait_for_requests_in_flight(self) -> None:
        for _ in range(100):
            if self.driver.in_flight > 0:
                return
            await asyncio.sleep(0.01)

    async def ledger_kill(self) -> None:
        async with self._locks["ledger"]:
            self.stack.ledger.kill()
            await self._start("ledger", self.stack.ledger.start)

    async def intake_kill(self) -> None:
        async with self._locks["intake"]:
            self.stack.intake.kill()
            await self._start("intake", self.stack.intake.start)

    async def nats_restart(self) -> None:
        await asyncio.to_thread(self.stack.nats.stop)  # SIGTERM
        await asyncio.to_thread(self.stack.nats.start)  # same port, same store

    async def _start(self, service: str, start: Any) -> None:
        """Start a service; if it exits while starting, record it and start it again."""
        for attempt in range(1, 4):
            try:
                await asyncio.to_thread(start)
                return
            except RuntimeError as exc:
                self.incidents.append(
                    Incident(
                        service,
                        f"exited while starting (attempt {attempt}): {exc}",
                        self._log(service),
                    )
                )
        raise RuntimeError(f"{service} would not start three times in a row")

    async def _watchdog(self) -> None:
        while not self._stopped.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), 0.5)
            for service, process in (("ledger", self.stack.ledger), ("intake", self.stack.intake)):
                proc = process.process
                lock = self._locks[service]
                if lock.locked() or proc is None or proc.poll() is None:
                    continue
                async with lock:
                    self.incidents.append(
                        Incident(
                            service, f"exited by itself with {proc.returncode}", self._log(service)
                        )
                    )
                    await self._start(service, process.start)

    def _log(self, service: str) -> str:
        path = self.stack.intake.log_path if service == "intake" else self.stack.tmp / "ledger.log"
        return tail(path, 4000)


# ----------------------------------------------------------------------------- the check


@dataclass
class Tally:
    """What the callers were told against what the stream and the ledger hold."""

    plan: Plan
    sent: int = 0
    attempts: int = 0
    accepted: int = 0
    replayed_on_retry: int = 0
    retried: int = 0
    rejected: int = 0
    unknown: int = 0
    unknown_landed: int = 0
    final_5xx: int = 0
    in_stream: int = 0
    in_ledger: int = 0
    ledger_rejected: int = 0
    replays_checked: int = 0
    refusals: collections.Counter[str] = field(default_factory=collections.Counter)
    timeline: list[str] = field(default_factory=list)
    faults_after_load: int = 0
    incidents: list[Incident] = field(default_factory=list)
    readiness_at_end: str = ""
    seen: collections.Counter[str] = field(default_factory=collections.Counter)
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    fault_in_flight: list[int] = field(default_factory=list)
    transports: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0
    catch_up_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(message)
        elif len(self.problems) == 50:
            self.problems.append("… (more problems not listed)")

    def render(self) -> str:
        lines = [
            f"chaos {self.plan.scale} (seed {self.plan.seed}, concurrency "
            f"{self.plan.concurrency}): {self.seconds:.1f} s of load and faults, ledger caught "
            f"up {self.catch_up_seconds:.1f} s later",
            f"  faults      {dict(self.faults)} (requests in flight at each intake kill: "
            f"{self.fault_in_flight})",
            f"  timeline    {', '.join(self.timeline)}",
            f"  sent        {self.sent} commands ({dict(self.transports)}), "
            f"{self.attempts} attempts",
            f"  accepted    {self.accepted} (2xx; {self.replayed_on_retry} of them answered "
            "'replayed' on a retry)",
            f"  retried     {self.retried} commands needed more than one attempt",
            f"  rejected    {self.rejected} (4xx): {dict(sorted(self.refusals.items()))}",
            f"  unknown     {self.unknown} never got a definitive answer "
            f"({self.unknown_landed} of them landed); final 5xx: {self.final_5xx}",
            f"  in stream   {self.in_stream} events",
            f"  in ledger   {self.in_ledger} events ({self.ledger_rejected} dead-lettered)",
            f"  replays     {self.replays_checked} accepted commands sent again with the same "
            "key afterwards",
            f"  answers     {dict(sorted(self.seen.items()))}",
        ]
        lines.append(f"  readiness   ledger /readyz once caught up: {self.readiness_at_end}")
        lines.append(
            f"  incidents   {len(self.incidents)} service exits the harness did not cause"
            + "".join(f"\n    - {i.service}: {i.what}" for i in self.incidents)
        )
        if self.problems:
            lines.append(f"  PROBLEMS ({len(self.problems)}):")
            lines.extend(f"    - {p}" for p in self.problems)
        else:
            lines.append("  OK: every 2xx exactly once in the stream and in the ledger")
        return "\n".join(lines)


async def check(
    plan: Plan,
    told: list[list[Command]],
    replays: list[Replay],
    admin: NatsAccess,
    db_path: Path,
    tally: Tally,
) -> Tally:
    """Compare the callers' answers with the stream and the (stopped) ledger's file, read
    through the admin's ``NatsAccess``."""
    commands = [c for story in told for c in story]
    tally.sent = len(commands)
    for c in commands:
        tally.attempts += c.attempts
        tally.transports[c.transport] += 1
        tally.seen.update(c.seen)
        tally.retried += c.retries > 0
        tally.accepted += c.accepted
        tally.replayed_on_retry += c.accepted and c.replayed
        tally.rejected += c.refused
        if c.refused:
            why = "deliberate" if c.expect_refusal else "after an earlier refusal"
            tally.refusals[f"{c.name} {c.status} {c.rule} ({why})"] += 1
        tally.unknown += c.unknown
        tally.final_5xx += c.unknown and c.last_status is not None
    for c in commands:
        if c.status is not None and c.status >= 500:
            tally.problem(f"{c.name} {c.key}: final status {c.status}")
        if c.unknown:
            tally.problem(
                f"{c.name} {c.key} ({c.transport}): no definitive answer in "
                f"{plan.command_deadline:.0f} s of retries ({dict(c.seen)})"
            )
    _check_refusals(told, tally)

    # The stream: every message, by the event id it carries.
    stored = await stored_messages(admin)
    tally.in_stream = len(stored)
    in_stream: dict[str, list[int]] = collections.defaultdict(list)
    by_story_event: dict[tuple[str, str], list[tuple[str, int]]] = collections.defaultdict(list)
    story_event_of: dict[str, tuple[str, str]] = {}
    for message in stored:
        event = json.loads(message.data)
        event_id = event["event_id"]
        if message.headers.get("Nats-Msg-Id") != event_id:
            tally.problem(
                f"stream sequence {message.sequence}: Nats-Msg-Id "
                f"{message.headers.get('Nats-Msg-Id')} is not the event id {event_id}"
            )
        in_stream[event_id].append(message.sequence)
        story_event = (event["subject_id"], event["type"])
        story_event_of[event_id] = story_event
        by_story_event[story_event].append((event_id, message.sequence))

    # The ledger: its file, opened after it stopped.
    store = LedgerStore(db_path, load_policy())  # as the ledger process: this environment's
    nc = await nats.connect(**admin.connect_options())
    try:
        rows = store.con.execute("SELECT event_id, sequence FROM events").fetchall()
        dead = store.con.execute("SELECT sequence, rule, reason FROM rejected").fetchall()
        report = await verify(store.con, stream_messages(nc.jetstream()), store.projections)
        registers = {
            name: store.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            for name in ("contacts", "complaints")
        }
    finally:
        store.close()
        await nc.close()
    tally.in_ledger = len(rows)
    tally.ledger_rejected = len(dead)
    in_ledger: dict[str, list[int]] = collections.defaultdict(list)
    for event_id, sequence in rows:
        in_ledger[event_id].append(sequence)
    for sequence, rule, reason in dead[:10]:
        tally.problem(f"ledger dead-lettered stream sequence {sequence}: {rule}: {reason}")

    # Every 2xx: exactly one event in the stream, exactly one row in the ledger.
    claimed: set[str] = set()
    for c in commands:
        if not c.accepted:
            continue
        assert c.event_id is not None
        claimed.add(c.event_id)
        if len(in_stream.get(c.event_id, [])) != 1:
            tally.problem(
                f"{c.name} {c.key} answered {c.status} with event {c.event_id}: "
                f"{len(in_stream.get(c.event_id, []))} times in the stream "
                f"(sequences {in_stream.get(c.event_id, [])})"
            )
        if len(in_ledger.get(c.event_id, [])) != 1:
            tally.problem(
                f"{c.name} {c.key} answered {c.status} with event {c.event_id}: "
                f"{len(in_ledger.get(c.event_id, []))} rows in the ledger"
            )

    # A story sends each command type once (its deliberate refusals must not land), so one
    # story holds at most one event of each type, whatever the retries.
    for (subject_id, type_), pairs in by_story_event.items():
        if len(pairs) > 1:
            tally.problem(f"subject {subject_id}: {len(pairs)} {type_} events {pairs}")

    # Every event in the stream: a 2xx, or a command whose answer never came.
    by_command = {(c.subject_id, c.event_type): c for c in commands if not c.expect_refusal}
    for event_id, sequences in in_stream.items():
        if event_id in claimed:
            continue
        owner = by_command.get(story_event_of[event_id])
        if owner is not None and owner.unknown:
            tally.unknown_landed += 1
            continue
        told_what = f"{owner.name} {owner.key} -> {owner.status}" if owner else "none"
        tally.problem(
            f"event {event_id} at stream sequence(s) {sequences}: nobody was answered 2xx "
            f"for it (its command: {told_what})"
        )
    for event_id in in_ledger:
        if event_id not in in_stream:
            tally.problem(f"event {event_id} is in the ledger, not in the stream")

    # Replays: the same key again gives the same event, marked replayed.
    tally.replays_checked = len(replays)
    for r in replays:
        if r.status is None or not 200 <= r.status < 300:
            tally.problem(f"replay of {r.command.name} {r.command.key}: answered {r.status}")
        elif r.event_id != r.command.event_id or not r.replayed:
            tally.problem(
                f"replay of {r.command.name} {r.command.key}: event {r.event_id} "
                f"(replayed={r.replayed}), first answer {r.command.event_id}"
            )

    # The ledger against the stream, its chain, and its projections against a rebuild.
    if tally.in_ledger != tally.in_stream:
        tally.problem(f"{tally.in_stream} events in the stream, {tally.in_ledger} in the ledger")
    if not report.ok:
        for p in report.problems:
            tally.problem(f"verify: {p}")
    if report.stream_messages != tally.in_stream:
        tally.problem(
            f"verify read {report.stream_messages} stream messages, not {tally.in_stream}"
        )
    opened = sum(1 for s in stored if json.loads(s.data)["type"] == "ContactOpened")
    filed = sum(1 for s in stored if json.loads(s.data)["type"] == "ComplaintFiled")
    if registers != {"contacts": opened, "complaints": filed}:
        tally.problem(
            f"registers {registers}, but the stream opened {opened} contacts, filed {filed} "
            "complaints"
        )
    return tally


def _check_refusals(told: list[list[Command]], tally: Tally) -> None:
    """When everything before it in its story was accepted, a command is refused if and
    only if it deliberately breaks the story's rules."""
    for story in told:
        for i, c in enumerate(story):
            if not all(p.accepted for p in story[:i]) or c.unknown:
                continue
            if c.expect_refusal and not c.refused:
                tally.problem(
                    f"{c.name} {c.key} breaks its story's rules but was answered {c.status}"
                )
            if not c.expect_refusal and not c.accepted:
                tally.problem(
                    f"{c.name} {c.key} follows its story but was answered {c.status} {c.rule} "
                    f"after {c.attempts} attempts ({dict(c.seen)})"
                )


# ----------------------------------------------------------------------------- the run


async def run_chaos(tmp: Path, plan: Plan) -> Tally:
    """Load, faults, catch-up, check. Returns the tally; ``tally.problems`` lists failures."""
    rng = random.Random(plan.seed)
    told = stories(plan, rng)
    total = sum(len(s) for s in told)
    tally = Tally(plan)
    with running_stack(tmp) as stack:
        rng = random.Random(plan.seed + 1)
        channel = stack.nats.access("channel")
        driver = LoadDriver(plan, stack.intake.url, channel, rng, token=stack.intake.token)
        faults = FaultLoop(plan, stack, driver, random.Random(plan.seed + 2))
        began = time.monotonic()
        try:
            await asyncio.gather(driver.run(told), faults.run(total))
        except BaseException:
            print(stack.logs())
            raise
        tally.seconds = time.monotonic() - began
        tally.faults.update(f.kind for f in faults.done)
        tally.fault_in_flight = [f.in_flight for f in faults.done if f.kind == "intake-kill"]
        tally.timeline = [f"{f.kind}@{f.at_command} ({f.down_seconds:.1f} s)" for f in faults.done]

        nc = await connect(stack.nats)
        try:
            last = (await nc.jetstream().stream_info(EVENT_STREAM)).state.last_seq
        finally:
            await nc.close()
        caught = time.monotonic()
        try:
            await asyncio.to_thread(stack.ledger.wait_caught_up, last, 120.0)
        except TimeoutError as exc:
            tally.problem(f"ledger stuck: {exc}")
            print(stack.logs())
        tally.catch_up_seconds = time.monotonic() - caught
        tally.readiness_at_end = readiness(stack.ledger.url)
        stack.ledger.stop()
        stack.intake.stop()
        if tally.problems:
            return tally
        admin = stack.nats.access("admin")
        await check(plan, told, driver.replays, admin, stack.db_path, tally)
        if tally.problems:
            print(stack.logs())
    return tally
