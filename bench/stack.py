"""nats-server processes for the bench, and filling the event stream quickly.

Servers come from ``careledger.stack.nats_server.NatsServer`` (free ports, their own
directory, stopped by PID), secure as shipped: TLS and the NKey users of
``careledger.stack.trust``, each process connecting as the user whose work it does
(``nats_args`` for a child's JSON arguments, ``service_env`` for a service process).
``sync_interval: always`` is the default here as in production; "2m" is nats-server's own
default (the config file does not take the word "default", so the bench writes the value
it stands for).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from careledger.ledger.entrypoints.admin import provision as admin_provision
from careledger.runtime.nats import NatsAccess
from careledger.runtime.streams import StreamSettings
from careledger.stack.nats_server import NatsServer

ALWAYS = "always"
DEFAULT_SYNC = "2m"  # nats-server's default sync_interval
CEILING_STREAM = "BENCH_CEILING"
CEILING_SUBJECTS = "bench.>"


def start_server(root: Path, name: str, sync_interval: str = ALWAYS, port: int = 0) -> NatsServer:
    server = NatsServer(root / name, port=port, sync_interval=sync_interval)
    return server.start(timeout=60)


def nats_args(server: NatsServer, user: str) -> dict[str, Any]:
    """How a child process reaches ``server`` as ``user``, as JSON (``connect`` reads it)."""
    access = server.access(user)
    return {
        "urls": list(access.urls),
        "ca_file": str(access.ca_file) if access.ca_file else None,
        "seed_file": str(access.seed_file) if access.seed_file else None,
        "inbox_prefix": access.inbox_prefix,
    }


def access_of(args: dict[str, Any]) -> NatsAccess:
    return NatsAccess(
        tuple(args["urls"]),
        Path(args["ca_file"]) if args["ca_file"] else None,
        Path(args["seed_file"]) if args["seed_file"] else None,
        args["inbox_prefix"],
    )


async def connect(args: dict[str, Any], **options: Any) -> Client:
    """A child's connection, from what ``nats_args`` gave it."""
    return await nats.connect(**access_of(args).connect_options(), **options)


def service_env(server: NatsServer, user: str) -> dict[str, str]:
    """The environment a service process reads its NATS access from, as ``user``."""
    return server.access(user).env()


async def provision(server: NatsServer) -> None:
    """The CareLedger streams and bucket (the admin's ``careledger admin provision``), and
    the bench-only stream of the publish ceiling, made by the admin too."""
    await admin_provision(server.access("admin"), StreamSettings())
    nc = await nats.connect(**server.access("admin").connect_options())
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=CEILING_STREAM,
            subjects=[CEILING_SUBJECTS],
            storage=StorageType.FILE,
            duplicate_window=120.0,
            allow_direct=True,
        )
    )
    await nc.close()


async def prefill(
    server: NatsServer, messages: list[tuple[str, bytes, dict[str, str]]], window: int = 5000
) -> dict[str, Any]:
    """Publish every message as a direct publisher and wait for every PubAck, ``window`` in
    flight at a time.

    Plain core publishes with a reply inbox per message, counted by one subscription:
    much leaner than ``js.publish`` (a future and a timeout per message). Not a measured
    figure, just the quickest way to a stream of N events; an ack with an error stops it.
    """
    nc = await nats.connect(**server.access("publisher").connect_options())
    inbox = nc.new_inbox()
    acked = 0
    target = 0
    errors: list[str] = []
    done = asyncio.Event()
    last_seq = 0

    async def on_ack(msg: Any) -> None:
        nonlocal acked, last_seq
        acked += 1
        reply = json.loads(msg.data)
        if "error" in reply:
            errors.append(str(reply["error"]))
        else:
            last_seq = max(last_seq, int(reply["seq"]))
        if acked >= target:
            done.set()

    sub = await nc.subscribe(f"{inbox}.*", cb=on_ack, pending_msgs_limit=window * 4)
    started = time.perf_counter()
    for start in range(0, len(messages), window):
        chunk = messages[start : start + window]
        target = start + len(chunk)
        done.clear()
        for i, (subject, data, headers) in enumerate(chunk, start):
            await nc.publish(subject, data, reply=f"{inbox}.{i}", headers=headers)
        await asyncio.wait_for(done.wait(), timeout=120)
        if errors:
            raise RuntimeError(f"prefill: JetStream refused a message: {errors[0]}")
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await nc.close()
    return {
        "events": len(messages),
        "seconds": elapsed,
        "per_s": len(messages) / elapsed,
        "last_seq": last_seq,
    }
