"""Intake under load: the service as a subprocess, a load driver as another process.

``IntakeProcess`` runs ``python -m careledger.intake.entrypoints.cli --port P --nats URL``
with a fresh ``CARELEDGER_MASTER_KEY`` and intake's NATS credentials (``nats_env``: the CA
and its NKey seed, ``bench.stack.service_env``), waits for ``/healthz`` and stops it by PID.
With ``secure`` (the default) it gets a clients file with one client per channel system
(``bench.events.CLIENTS``: its ``client_id``, every command) and the driver sends each
command with the token of the client whose ``client_id`` it carries (``tokens``);
without, intake runs with ``CARELEDGER_INSECURE_DEV=1`` and no token is sent.

The driver (``python -m bench.intake '{…}'``) runs ``concurrency`` workers, each sending
customer stories command by command (open a contact, maybe give consent, file, acknowledge,
escalate and resolve a complaint, withdraw, close), over HTTP (httpx) or NATS
request/reply as a channel system's NATS user (``careledger.intake.<command>``,
``Idempotency-Key`` header, status in ``CareLedger-Status``). Every command makes intake
read the aggregates it touches before deciding. Latency is from sending the request to the
reply, which intake gives after the PubAck. Only replies that arrive inside the measured
window count (after a warm-up).

Ceilings of the two transports, with the same driver: ``ping`` asks intake's ``/healthz``
over HTTP; over NATS it asks a ``Responder`` (``python -m bench.intake '{"respond": …}'``):
a FastStream subscriber set up as intake's, connected as intake's NATS user, which answers
at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from bench.common import ROOT, child_args, cpu_seconds, emit, percentile
from bench.events import CLIENTS, _uuid, command_stories
from bench.stack import access_of, connect
from careledger.stack.nats_server import free_port
from careledger.stack.principals import ClientGrant, new_token, write_clients_file

# Outside every stream, and none of intake's commands; under careledger.intake.> so that
# intake's user answers it in its queue group. A channel user may send commands only, so the
# driver asks it as the admin (``PING_USER``): the same TLS and NKey handshake, no work.
PING_SUBJECT = "careledger.intake.bench-ping"
PING_USER = "admin"


@dataclass
class IntakeProcess:
    nats_url: str
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    nats_env: dict[str, str] = field(default_factory=dict)  # CA and seed (service_env)
    secure: bool = True  # a clients file and tokens; False: CARELEDGER_INSECURE_DEV=1
    tokens: dict[str, str] = field(default_factory=dict)  # client_id: bearer token

    def _principals(self, env: dict[str, str]) -> None:
        """A client per channel system's client_id in a clients file beside the log."""
        env.pop("CARELEDGER_CLIENTS_FILE", None)
        if not self.secure:
            env["CARELEDGER_INSECURE_DEV"] = "1"
            return
        self.tokens = {client_id: new_token() for client_id in sorted(set(CLIENTS.values()))}
        grants = [ClientGrant(f"bench-{c}", t, c, ("*",)) for c, t in self.tokens.items()]
        clients = self.log.with_name(self.log.stem + "-clients.toml")
        write_clients_file(clients, grants)
        env["CARELEDGER_CLIENTS_FILE"] = str(clients.resolve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> IntakeProcess:
        self.port = self.port or free_port()
        env = dict(os.environ)
        env["CARELEDGER_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
        env.pop("CARELEDGER_MASTER_KEY_FILE", None)
        env |= self.nats_env
        self._principals(env)
        cmd = [
            sys.executable,
            "-m",
            "careledger.intake.entrypoints.cli",
            "--port",
            str(self.port),
            "--nats",
            self.nats_url,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"intake exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"intake not healthy after {timeout}s; see {self.log}")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self, timeout: float = 15) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)


@dataclass
class Responder:
    """The NATS transport's ceiling: intake's subscriber settings, no work (a process)."""

    nats: dict[str, Any]  # intake's (``bench.stack.nats_args``)
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Responder:
        cmd = [sys.executable, "-m", "bench.intake", json.dumps({"respond": self.nats})]
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        assert self.process.stdout is not None
        said, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not said or self.process.stdout.readline().strip() != b"ready":  # once subscribed
            self.stop()
            raise RuntimeError(f"the ping responder did not start in {timeout}s; see {self.log}")
        return self

    def stop(self, timeout: float = 15) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)


async def respond(nats: dict[str, Any]) -> None:
    from faststream import Response
    from faststream.nats import NatsBroker
    from faststream.nats.security import NatsNKey
    from faststream.security import BaseSecurity

    from careledger.intake.entrypoints.nats import QUEUE, STATUS

    access = access_of(nats)
    context = access.tls()
    security = (
        NatsNKey.from_file(access.seed_file, ssl_context=context)
        if access.seed_file is not None
        else BaseSecurity(ssl_context=context)
    )
    broker = NatsBroker(  # as intake's bootstrap makes it; stdout says only "ready"
        list(access.urls), security=security, inbox_prefix=access.inbox_prefix, logger=None
    )

    @broker.subscriber(PING_SUBJECT, queue=QUEUE, max_workers=16)
    async def ping(body: bytes) -> Response:
        return Response(b"{}", headers={STATUS: "200"})

    await broker.start()
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    print("ready", flush=True)
    await stopped.wait()
    await broker.stop()


# --- the load driver (child process) -----------------------------------------------------


def _authorization(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Sender:
    async def send(self, name: str, body: bytes, key: str, token: str | None = None) -> int:
        """Status of one command; ``token``: the HTTP client's bearer token, if any."""
        raise NotImplementedError

    async def close(self) -> None:
        pass


class HttpSender(Sender):
    def __init__(self, url: str, concurrency: int) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=url,
            timeout=30,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    async def send(self, name: str, body: bytes, key: str, token: str | None = None) -> int:
        response = await self.client.post(
            f"/v1/commands/{name}",
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": key}
            | _authorization(token),
        )
        return response.status_code

    async def close(self) -> None:
        await self.client.aclose()


class RawHttpSender(Sender):
    """A minimal HTTP/1.1 keep-alive client: one connection per worker, no pool.

    httpx costs 1-4 ms of CPU per request here (worse as concurrency grows), which made
    the driver, not intake, the bound; this costs tens of microseconds.
    """

    def __init__(self, url: str) -> None:
        hostport = url.split("://", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        self.idle.append((reader, writer))
        return int(status_line.split()[1])

    async def send(self, name: str, body: bytes, key: str, token: str | None = None) -> int:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        return await self.request(
            "POST", f"/v1/commands/{name}", body, headers | _authorization(token)
        )

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


class NatsSender(Sender):
    def __init__(self, nc: Any) -> None:
        self.nc = nc

    async def send(self, name: str, body: bytes, key: str, token: str | None = None) -> int:
        reply = await self.nc.request(
            f"careledger.intake.{name}", body, timeout=30, headers={"Idempotency-Key": key}
        )
        return int((reply.headers or {}).get("CareLedger-Status", "0"))

    async def close(self) -> None:
        await self.nc.close()


async def drive(args: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(f"{args['seed']}-{args['tag']}")
    subjects = [_uuid(rng) for _ in range(5000)]
    stories = command_stories(rng, subjects)
    concurrency = int(args["concurrency"])
    tokens: dict[str, str] = args.get("tokens") or {}  # client_id: token (IntakeProcess.tokens)
    if args["transport"] == "http" and args.get("client") == "httpx":
        sender: Sender = HttpSender(args["url"], concurrency)
    elif args["transport"] == "http":
        sender = RawHttpSender(args["url"])
    else:
        sender = NatsSender(await connect(args["nats"]))
    warmup, duration = float(args["warmup"]), float(args["duration"])
    encoder = msgspec.json.Encoder()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    by_command: Counter[str] = Counter()
    counter = 0
    started = time.perf_counter()
    window = (started + warmup, started + warmup + duration)
    cpu_before = time.process_time()

    async def pinger() -> None:
        """The driver's and the transport's own ceiling: GET /healthz, or a NATS request
        the ``Responder`` answers at once; nothing else."""
        while time.perf_counter() < window[1]:
            sent = time.perf_counter()
            if isinstance(sender, RawHttpSender):
                status = await sender.request("GET", "/healthz", b"", {})
            elif isinstance(sender, HttpSender):
                status = (await sender.client.get("/healthz")).status_code
            else:
                assert isinstance(sender, NatsSender)
                reply = await sender.nc.request(PING_SUBJECT, b"", timeout=30)
                status = int((reply.headers or {}).get("CareLedger-Status", "0"))
            done = time.perf_counter()
            if window[0] <= done <= window[1]:
                statuses[status] += 1
                if status == 200:
                    latencies.append(done - sent)

    async def worker() -> None:
        nonlocal counter
        while time.perf_counter() < window[1]:
            for name, make in next(stories):
                counter += 1
                key = f"bench-{args['tag']}-{counter:08d}"
                command = make()
                body, token = encoder.encode(command), tokens.get(command["client_id"])
                sent = time.perf_counter()
                try:
                    status = await sender.send(name, body, key, token)
                except Exception:
                    status = 0
                done = time.perf_counter()
                if window[0] <= done <= window[1]:
                    statuses[status] += 1
                    if status == 201:
                        latencies.append(done - sent)
                        by_command[name] += 1
                if status != 201 or done > window[1]:
                    break  # the rest of the story depends on this step

    task = pinger if args.get("ping") else worker
    await asyncio.gather(*(task() for _ in range(concurrency)))
    cpu = time.process_time() - cpu_before
    wall = time.perf_counter() - started
    await sender.close()
    latencies.sort()
    ms = 1000.0
    return {
        "transport": args["transport"],
        "concurrency": concurrency,
        "duration_s": duration,
        "accepted": len(latencies),
        "per_s": len(latencies) / duration,
        "p50_ms": percentile(latencies, 50) * ms,
        "p95_ms": percentile(latencies, 95) * ms,
        "p99_ms": percentile(latencies, 99) * ms,
        "max_ms": (latencies[-1] * ms) if latencies else None,
        "statuses": {str(k): v for k, v in statuses.items()},
        "commands": dict(by_command),
        "driver_cpu_share": cpu / wall,
    }


def main() -> None:
    args = child_args()
    if "respond" in args:
        asyncio.run(respond(args["respond"]))
    else:
        emit(asyncio.run(drive(args)))


if __name__ == "__main__":
    main()
