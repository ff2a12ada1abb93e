"""Child process: the real ledger runner applying a pre-filled stream, timed by phase.

``python -m bench.ledger '{"nats": …, "db": …, "last": N, "durable": …}'`` assembles
``LedgerStore``, ``LedgerConsumer``, ``DeadLetters`` and ``LedgerRunner`` as the ledger's
bootstrap does (its own default batch and fetch timeout), steps the runner until every
message up to ``last`` is committed and acknowledged, and reports events/s, RSS over the
run and where the wall time went (fetch, decode+hash, DuckDB commit per projection and
for the Merkle tree, checkpoint signing). It connects as the ledger's NATS user (``nats``:
``bench.stack.nats_args``), whose one durable (``durable``: "ledger") it deletes first, so
that each run reads the stream from its start.

The runner signs checkpoints as the ledger's does (``Signing``), every ``SIGN_EVERY``
seconds while the tree grows, with a key made for the run and never written; the bench has
no checkpoint stream, so publishing a checkpoint only counts it.

``{"task": "rebuild", "db": …}`` rebuilds every projection of a ledger file in place.

With ``"profile": "<path>"`` it runs under pyinstrument instead and writes the profile;
``asyncio.to_thread`` is then run inline so that the work the runner hands to a thread
(ingest, commit) shows in the profile of the one thread pyinstrument samples.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

from nats.js.errors import NotFoundError

from bench.common import LEAVES_PHASE, SIGNING_PHASE, TREE_PHASE, RssSampler, child_args, emit
from bench.stack import connect
from careledger.contracts.subjects import EVENT_STREAM
from careledger.ledger.adapters.consumer import LedgerConsumer
from careledger.ledger.adapters.dead_letters import DeadLetters
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import load_policy
from careledger.ledger.domain.projection import Projection
from careledger.ledger.ingest import runner as runner_module
from careledger.ledger.ingest import tables
from careledger.ledger.ingest.runner import LedgerRunner
from careledger.ledger.settings import Settings

Phases = defaultdict[str, float]
SIGN_EVERY = 1.0  # seconds between checkpoints while the tree grows


def _time_projections(phases: Phases) -> None:
    """Add the time each projection's part of a commit takes to ``phases``: the store
    applies a batch to each projection with ``tables.apply``, looked up on the module at
    every call, so the module's function is replaced (in this child process only)."""
    apply = tables.apply

    def timed_apply(con: Any, projection: Projection, batch: Any) -> None:
        started = time.perf_counter()
        apply(con, projection, batch)
        phases[f"commit: projection {projection.name}"] += time.perf_counter() - started

    tables.apply = timed_apply


def _time_tree(phases: Phases) -> None:
    """Add the time the commit spends on the Merkle tree (``tree.append``, looked up on its
    module at every commit) to ``phases``; nothing in a version without the tree."""
    try:
        from careledger.ledger.adapters import tree
    except ImportError:
        return
    tree.append = _timed(phases, TREE_PHASE, tree.append)
    from careledger.ledger.ingest import ingest as ingest_module

    if hasattr(ingest_module, "grow_tree"):  # the leaves hashed in ingest, off the commit
        ingest_module.grow_tree = _timed(phases, LEAVES_PHASE, ingest_module.grow_tree)


def _signing(published: list[int]) -> dict[str, Any]:
    """The runner's ``signing`` argument (none in a version without signed checkpoints): a
    key of the run's own, every ``SIGN_EVERY`` seconds, each checkpoint's size counted in
    ``published`` in place of a stream."""
    try:
        from careledger.ledger.domain.note import generate_signer, signer_from_text
        from careledger.ledger.ingest.runner import Signing
    except ImportError:
        return {}

    async def publish(signed: Any) -> None:
        published.append(signed.size)

    secret, _ = generate_signer("careledger-bench")
    return {"signing": Signing(signer_from_text(secret), SIGN_EVERY, publish)}


def _timed(phases: Phases, label: str, func: Any) -> Any:
    if asyncio.iscoroutinefunction(func):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await func(*args, **kwargs)
            finally:
                phases[label] += time.perf_counter() - started

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            phases[label] += time.perf_counter() - started

    return timed


def _dead_letters(js: Any, nc: Any) -> DeadLetters:
    try:
        return DeadLetters(js, max_payload=nc.max_payload)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # an older signature
        return DeadLetters(js)  # type: ignore[call-arg,unused-ignore]


async def run(args: dict[str, Any]) -> dict[str, Any]:
    settings = Settings()
    batch = int(args.get("batch") or settings.batch_size)
    phases: Phases = defaultdict(float)
    instrument = not args.get("profile")
    nc = await connect(args["nats"])
    js = nc.jetstream()
    with suppress(NotFoundError):  # a fresh durable: every run reads the whole stream
        await js.delete_consumer(EVENT_STREAM, args["durable"])
    store = LedgerStore(Path(args["db"]), load_policy())
    consumer = LedgerConsumer(
        js, durable=args["durable"], batch=batch, fetch_timeout=settings.fetch_timeout
    )
    published: list[int] = []
    signing = _signing(published)
    runner = LedgerRunner(store, consumer, _dead_letters(js, nc), **signing)
    if instrument:
        _time_projections(phases)
        _time_tree(phases)
        timed = (
            (store, "sign_checkpoint", SIGNING_PHASE),
            (consumer, "fetch", "fetch (wait for the prefetched batch)"),
            (runner.dead_letters, "publish", "dead letters"),
            (store, "commit", "commit (total, DuckDB)"),
            (store, "_append_events", "commit: events + chain rows"),
            (runner_module, "ingest", "ingest (decode, checks, hash)"),
        )
        for owner, name, label in timed:
            if hasattr(owner, name):  # each may be missing from another version
                setattr(owner, name, _timed(phases, label, getattr(owner, name)))
    last = int(args["last"])
    sampler = RssSampler(progress=lambda: runner.position.sequence).start()
    started = time.perf_counter()
    cpu = time.process_time()
    await runner.start()
    steps = 0
    while runner.position.sequence < last:
        step_started = time.perf_counter()
        await runner.step()
        phases["step (total)"] += time.perf_counter() - step_started
        steps += 1
    await nc.flush()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rss = sampler.stop()
    ack_pending = await _ack_pending(js, consumer)
    counts = store.con.execute(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM rejected)"
    ).fetchall()[0]
    await consumer.close()
    store.close()
    await nc.close()
    return {
        "events": int(counts[0]),
        "rejected": int(counts[1]),
        "ack_pending_after": ack_pending,
        "seconds": elapsed,
        "cpu_s": cpu,
        "per_s": last / elapsed,
        "batch": batch,
        "steps": steps,
        "rss": rss,
        "phases_s": dict(phases),
        "checkpoints": {"signed": len(published), "every_s": SIGN_EVERY} if signing else {},
    }


async def _ack_pending(js: Any, consumer: LedgerConsumer) -> int:
    """What the server still waits to see acknowledged (0 once the last ack-all landed)."""
    pending = -1
    for _ in range(20):
        info = await js.consumer_info(consumer.stream, consumer.durable)
        pending = int(info.num_ack_pending or 0) + int(info.num_pending or 0)
        if pending == 0:
            break
        await asyncio.sleep(0.1)
    return pending


async def _inline(func: Any, /, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def profile(args: dict[str, Any]) -> dict[str, Any]:
    from pyinstrument import Profiler

    asyncio.to_thread = _inline  # type: ignore[assignment,unused-ignore]
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    result = asyncio.run(run(args))
    session = profiler.stop()
    out = Path(args["profile"])
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    result["profile"] = str(out)
    result["profile_top"] = top_entries(session.root_frame(), session.duration)
    return result


def top_entries(root: Any, duration: float, count: int = 20) -> dict[str, Any]:
    """Self time and inclusive time by function over the whole profile tree."""
    own: dict[str, float] = defaultdict(float)
    inclusive: dict[str, float] = defaultdict(float)

    def name(frame: Any) -> str:
        path = str(frame.file_path_short or frame.file_path or "")
        return f"{frame.function} ({path}:{frame.line_no})" if path else str(frame.function)

    def walk(frame: Any, above: frozenset[str]) -> None:
        if frame.is_synthetic:  # "[self]" etc.: already in the parent's total_self_time
            return
        label = name(frame)
        own[label] += frame.total_self_time
        if label not in above:  # recursion counts once
            inclusive[label] += frame.time
        for child in frame.children:
            walk(child, above | {label})

    if root is not None:
        walk(root, frozenset())

    def top(table: dict[str, float]) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[:count]
        return [
            {"function": k, "seconds": round(v, 3), "percent": round(100 * v / duration, 1)}
            for k, v in ranked
        ]

    return {"duration_s": duration, "self": top(own), "inclusive": top(inclusive)}


def rebuild(args: dict[str, Any]) -> dict[str, Any]:
    """Every projection rebuilt in place from the ``events`` table, in one transaction, as
    ``careledger ledger rebuild`` does it."""
    from careledger.ledger.adapters.rebuild_parts import default_workers
    from careledger.ledger.ingest.rebuild import rebuild_projections

    sampler = RssSampler().start()
    store = LedgerStore(Path(args["db"]), load_policy())
    started = time.perf_counter()
    with store.transaction():
        done = rebuild_projections(
            store.con, store.con, store.projections, workers=default_workers(), policy=store.policy
        )
    elapsed = time.perf_counter() - started
    store.close()
    return {"events": done, "seconds": elapsed, "per_s": done / elapsed, "rss": sampler.stop()}


def main() -> None:
    args = child_args()
    if args.get("task") == "rebuild":
        emit(rebuild(args))
    else:
        emit(profile(args) if args.get("profile") else asyncio.run(run(args)))


if __name__ == "__main__":
    main()
