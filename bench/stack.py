"""nats-server processes for the bench, and filling the event stream quickly.

Servers come from ``careledger.stack.nats_server.NatsServer`` (free ports, their own
directory, stopped by PID). ``sync_interval: always`` is the default here as in
production; "2m" is nats-server's own default (the config file does not take the word
"default", so the bench writes the value it stands for).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StorageType, StreamConfig

from careledger.intake.adapters.provisioning import StreamSettings, ensure_streams
from careledger.stack.nats_server import NatsServer

ALWAYS = "always"
DEFAULT_SYNC = "2m"  # nats-server's default sync_interval
CEILING_STREAM = "BENCH_CEILING"
CEILING_SUBJECTS = "bench.>"


def start_server(root: Path, name: str, sync_interval: str = ALWAYS, port: int = 0) -> NatsServer:
    server = NatsServer(root / name, port=port, sync_interval=sync_interval)
    return server.start(timeout=60)


async def provision(url: str) -> None:
    """The CareLedger streams (as intake creates them) and a bench-only stream alike."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_streams(js, StreamSettings())
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
    url: str, messages: list[tuple[str, bytes, dict[str, str]]], window: int = 5000
) -> dict[str, Any]:
    """Publish every message and wait for every PubAck, ``window`` in flight at a time.

    Plain core publishes with a reply inbox per message, counted by one subscription:
    much leaner than ``js.publish`` (a future and a timeout per message). Not a measured
    figure, just the quickest way to a stream of N events; an ack with an error stops it.
    """
    nc = await nats.connect(url)
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
