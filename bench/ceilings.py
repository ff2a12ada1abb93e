"""Child process: what this machine can do at all, with plain libraries and no CareLedger code.

Tasks (``python -m bench.ceilings '{"task": …}'``; ``nats``: how to reach the server, from
``bench.stack.nats_args``: the admin's, as the stream and consumers here are the bench's own):

- ``publish``: JetStream publish of the bench's real payloads to a bench-only stream with
  ``Nats-Msg-Id``, awaiting each PubAck, and pipelined (``window`` ``js.publish`` calls in
  flight with ``asyncio.gather``).
- ``consume``: plain nats-py ``fetch(batch)`` from a durable pull consumer with ack-all,
  acknowledging the last message of each batch, over the pre-filled event stream.
- ``consume_raw``: the same consumer driven by hand: one pull request per batch and the
  messages read from a subscription callback (no per-message task, uuid or wait_for).
- ``duckdb``: the ledger's ``events`` rows (same schema and constraints) inserted from
  Arrow, in transactions of ``batch`` rows and as one insert; rows built before timing.
- ``decode``: the one piece of CareLedger here: each payload decoded by the contract
  (``decode_event``: msgspec with every field's constraints) and its chain hash, on one
  core. The ledger does both for every event; with the raw pull above, it bounds what one
  Python process can ingest before any check, projection or DuckDB.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.common import child_args, emit
from bench.stack import CEILING_SUBJECTS, connect
from careledger.contracts.subjects import EVENT_STREAM


async def publish(args: dict[str, Any]) -> dict[str, Any]:
    from bench.events import generate

    payloads = [data for _, data, _ in generate(args["payloads"], seed=args["seed"]).messages]
    nc = await connect(args["nats"])
    js = nc.jetstream(timeout=10)
    prefix = CEILING_SUBJECTS.rstrip(">")
    tag = args["tag"]
    n, window = int(args["count"]), int(args["window"])

    def message(i: int) -> tuple[str, bytes, dict[str, str]]:
        return f"{prefix}{i % 997}", payloads[i % len(payloads)], {"Nats-Msg-Id": f"{tag}-{i}"}

    if args["mode"] == "awaited":
        started = time.perf_counter()
        for i in range(n):
            subject, data, headers = message(i)
            await js.publish(subject, data, headers=headers)
    else:
        started = time.perf_counter()
        for start in range(0, n, window):
            batch = [message(i) for i in range(start, min(n, start + window))]
            await asyncio.gather(*(js.publish(s, d, headers=h) for s, d, h in batch))
    elapsed = time.perf_counter() - started
    await nc.close()
    return {"count": n, "seconds": elapsed, "per_s": n / elapsed}


async def _consumer(js: Any, durable: str, batch: int) -> None:
    await js.add_consumer(
        EVENT_STREAM,
        ConsumerConfig(
            durable_name=durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.ALL,
            ack_wait=60,
            max_ack_pending=batch * 4,
            max_deliver=-1,
        ),
    )


async def consume(args: dict[str, Any]) -> dict[str, Any]:
    """Plain nats-py: ``fetch(batch)`` and ack the last message of each batch."""
    nc = await connect(args["nats"])
    js = nc.jetstream()
    durable, batch, last = args["durable"], int(args["batch"]), int(args["last"])
    await _consumer(js, durable, batch)
    sub = await js.pull_subscribe_bind(durable, EVENT_STREAM)
    got = 0
    started = time.perf_counter()
    while got < last:
        try:
            msgs = await sub.fetch(batch, timeout=2)
        except nats.errors.TimeoutError:
            continue
        got += len(msgs)
        await msgs[-1].ack()
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await js.delete_consumer(EVENT_STREAM, durable)
    await nc.close()
    return {"count": got, "seconds": elapsed, "per_s": got / elapsed}


async def consume_raw(args: dict[str, Any]) -> dict[str, Any]:
    """One ``$JS.API.CONSUMER.MSG.NEXT`` request per batch, messages counted in a callback."""
    nc = await connect(args["nats"])
    js = nc.jetstream()
    durable, batch, last = args["durable"], int(args["batch"]), int(args["last"])
    await _consumer(js, durable, batch)
    inbox = nc.new_inbox()
    received: list[Any] = []
    full = asyncio.Event()

    async def on_msg(msg: Any) -> None:
        if msg.headers and msg.headers.get("Status"):
            full.set()  # 404/408: the request ended early
            return
        received.append(msg)
        if len(received) >= batch:
            full.set()

    sub = await nc.subscribe(inbox, cb=on_msg, pending_msgs_limit=batch * 4)
    request = json.dumps({"batch": batch, "expires": 2_000_000_000}).encode()
    subject = f"$JS.API.CONSUMER.MSG.NEXT.{EVENT_STREAM}.{durable}"
    got = 0
    started = time.perf_counter()
    while got < last:
        received.clear()
        full.clear()
        await nc.publish(subject, request, reply=inbox)
        await full.wait()
        if received:
            got += len(received)
            await nc.publish(received[-1].reply, b"+ACK")
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await js.delete_consumer(EVENT_STREAM, durable)
    await nc.close()
    return {"count": got, "seconds": elapsed, "per_s": got / elapsed}


def duckdb_insert(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa

    from bench.events import generate
    from careledger.contracts import decode_event

    try:  # where the ledger keeps its table definitions (they have moved before)
        from careledger.ledger.adapters.log_tables import EVENTS_SCHEMA, SCHEMA
    except ImportError:
        from careledger.ledger.adapters.store import (  # type: ignore[attr-defined,no-redef]
            EVENTS_SCHEMA,
            SCHEMA,
        )

    generated = generate(int(args["count"]), seed=int(args["seed"]))
    rows: dict[str, list[Any]] = {name: [] for name in EVENTS_SCHEMA.names}
    head = bytes(32)
    for sequence, (subject, data, _) in enumerate(generated.messages, 1):
        event = decode_event(data)
        digest = hashlib.sha256(head + sequence.to_bytes(8, "big") + data).digest()
        values = (
            sequence,
            event.event_id,
            subject,
            type(event).__name__,
            event.aggregate,
            event.aggregate_id,
            event.subject_id,
            event.occurred_at,
            event.recorded_at,
            data,
            head,
            digest,
            event.recorded_at,  # the claim, here also the stored time
            "server",
        )
        for name, value in zip(EVENTS_SCHEMA.names, values, strict=True):
            rows[name].append(value)
        head = digest
    every = pa.table(rows, schema=EVENTS_SCHEMA)
    del generated, rows
    batch = int(args["batch"])
    results: dict[str, list[float]] = {"batched_per_s": [], "single_per_s": []}
    with tempfile.TemporaryDirectory(dir=args["dir"]) as work:
        for run in range(int(args["runs"])):
            for mode in ("batched", "single"):
                con = duckdb.connect(str(Path(work) / f"{mode}-{run}.duckdb"))
                con.execute("SET checkpoint_threshold = '1GB'")
                con.execute(SCHEMA)
                started = time.perf_counter()
                if mode == "batched":
                    for offset in range(0, every.num_rows, batch):
                        part = every.slice(offset, batch)  # noqa: F841 - read by DuckDB
                        con.execute("BEGIN TRANSACTION")
                        con.execute("INSERT INTO events SELECT * FROM part")
                        con.execute("COMMIT")
                else:
                    con.execute("BEGIN TRANSACTION")
                    con.execute("INSERT INTO events SELECT * FROM every")
                    con.execute("COMMIT")
                elapsed = time.perf_counter() - started
                con.close()
                results[f"{mode}_per_s"].append(every.num_rows / elapsed)
    return {"rows": every.num_rows, "batch": batch, **results}


def decode(args: dict[str, Any]) -> dict[str, Any]:
    from bench.events import generate
    from careledger.contracts import decode_event

    payloads = [
        data for _, data, _ in generate(int(args["count"]), seed=int(args["seed"])).messages
    ]
    rates = []
    for _ in range(int(args["runs"])):
        head = bytes(32)
        started = time.perf_counter()
        for sequence, data in enumerate(payloads, 1):
            decode_event(data)
            head = hashlib.sha256(head + sequence.to_bytes(8, "big") + data).digest()
        rates.append(len(payloads) / (time.perf_counter() - started))
    return {"count": len(payloads), "per_s": rates}


TASKS = {"publish": publish, "consume": consume, "consume_raw": consume_raw}


def main() -> None:
    args = child_args()
    task = args["task"]
    if task == "duckdb":
        emit(duckdb_insert(args))
    elif task == "decode":
        emit(decode(args))
    else:
        emit(asyncio.run(TASKS[task](args)))


if __name__ == "__main__":
    main()
