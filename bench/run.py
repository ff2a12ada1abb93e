"""``make bench``: every figure of issue 6 in one run, against this machine's own ceilings,
and the cost of security (issue 16).

    python -m bench.run            # 200k events; fits in about ten minutes on 2 cores
    python -m bench.run --full     # 1M events for the ledger, rebuild and queries

Writes ``bench/results/latest.json`` (and the profile beside it; ``--results DIR`` writes
them to DIR instead) and appends the tables to ``bench/results/runs.md`` (not with
``--no-docs``; ``docs/performance.md`` keeps the current figures). Every
nats-server and intake process is started here, in a temporary directory, and stopped by
PID; the directory is removed at the end (``--keep`` keeps it, with the logs and the
pyinstrument profile).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report, security
from bench.common import ROOT, LoadMeter, child, cpu_seconds, log, summary
from bench.events import generate
from bench.intake import PING_USER, IntakeProcess, Responder
from bench.stack import (
    ALWAYS,
    DEFAULT_SYNC,
    nats_args,
    prefill,
    provision,
    service_env,
    start_server,
)
from careledger.stack.nats_server import NatsServer

SEED = 20261123
RESULTS = ROOT / "bench" / "results"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.logfile = work / "children.log"
        self.results: dict[str, Any] = {"load": {}}
        self.runs = args.runs
        self.out: Path = args.results

    def child(self, module: str, **kwargs: Any) -> dict[str, Any]:
        return child(module, kwargs, log=self.logfile)

    def section(self, name: str) -> LoadMeter:
        log(name)
        return LoadMeter().start()

    def end(self, name: str, meter: LoadMeter) -> None:
        self.results["load"][name] = meter.stop()
        load = self.results["load"][name]
        log(f"  done in {load['seconds']:.0f}s (other processes: {load.get('others_cores')} cores)")

    # --- sections ----------------------------------------------------------------------

    def publish_runs(self, server: NatsServer, sync: str) -> dict[str, Any]:
        """JetStream publish awaited and pipelined, ``self.runs`` times each."""
        out: dict[str, Any] = {}
        for mode, count in (
            ("awaited", self.args.publish_awaited),
            ("pipelined", self.args.publish_pipelined),
        ):
            runs = [
                self.child(
                    "bench.ceilings",
                    task="publish",
                    nats=nats_args(server, "admin"),  # the bench's own stream
                    payloads=2000,
                    seed=SEED,
                    tag=f"{sync}-{mode}-{i}",
                    count=count,
                    window=1000,
                    mode=mode,
                )
                for i in range(self.runs)
            ]
            out[f"publish_{mode}"] = summary([r["per_s"] for r in runs]) | {"count": count}
        return out

    def ceilings(self, server: NatsServer, last: int) -> None:
        meter = self.section("ceilings: JetStream publish, DuckDB insert, decode")
        out: dict[str, Any] = {}
        out |= self.publish_runs(server, "always")
        duck = self.child(
            "bench.ceilings",
            task="duckdb",
            count=last,
            seed=SEED,
            batch=1000,
            runs=self.runs,
            dir=str(self.work),
        )
        out["duckdb_batched"] = summary(duck["batched_per_s"]) | {"rows": last, "batch": 1000}
        out["duckdb_single"] = summary(duck["single_per_s"]) | {"rows": last}
        decoded = self.child(
            "bench.ceilings", task="decode", count=200_000, seed=SEED, runs=self.runs
        )
        out["decode"] = summary(decoded["per_s"]) | {"count": decoded["count"]}
        self.results.setdefault("ceilings", {}).update(out)
        self.end("ceilings", meter)

    def consume_ceiling(self, server: NatsServer, task: str, size: int, i: int) -> float:
        result = self.child(
            "bench.ceilings",
            task=task,
            nats=nats_args(server, "admin"),  # consumers of its own
            durable=f"ceiling-{task}-{size}-{i}",
            batch=1000,
            last=size,
        )
        return float(result["per_s"])

    def ledger(self, server: NatsServer, sizes: list[int]) -> Path:
        """Each ledger run is paired with a run of each consume ceiling just before it, so
        that a ratio compares figures taken under the same conditions."""
        kept: Path | None = None
        self.results["ledger"] = {}
        for size in sizes:
            meter = self.section(
                f"ledger: {size:,} events, {self.runs} runs, each after the consume ceilings"
            )
            runs = []
            fetch, raw = [], []
            for i in range(self.runs):
                fetch.append(self.consume_ceiling(server, "consume", size, i))
                raw.append(self.consume_ceiling(server, "consume_raw", size, i))
                db = self.work / f"ledger-{size}-{i}.duckdb"
                cpu_nats = cpu_seconds(server.pid or 0)
                result = self.child(
                    "bench.ledger",
                    nats=nats_args(server, "ledger"),
                    db=str(db),
                    last=size,
                    durable="ledger",  # the ledger user's one durable, fresh for each run
                )
                result["nats_cpu_share"] = (cpu_seconds(server.pid or 0) - cpu_nats) / result[
                    "seconds"
                ]
                if result["rejected"] or result["events"] != size:
                    raise RuntimeError(f"ledger run applied {result['events']} of {size}: {result}")
                runs.append(result)
                log(
                    f"  run {i + 1}: fetch ceiling {fetch[-1]:,.0f}/s, raw pull {raw[-1]:,.0f}/s, "
                    f"ledger {result['per_s']:,.0f} events/s"
                )
                if size == sizes[-1] and kept is None:
                    kept = db
                else:
                    db.unlink(missing_ok=True)
            phases = {
                name: statistics.median(r["phases_s"].get(name, 0.0) for r in runs)
                for name in runs[0]["phases_s"]
            }
            self.results["ledger"][str(size)] = {
                "events": size,
                "per_s": summary([r["per_s"] for r in runs]),
                "seconds": summary([r["seconds"] for r in runs]),
                "fetch_ceiling": summary(fetch),
                "raw_ceiling": summary(raw),
                "ratio_to_fetch": summary(
                    [r["per_s"] / f for r, f in zip(runs, fetch, strict=True)]
                ),
                "ratio_to_raw": summary([r["per_s"] / f for r, f in zip(runs, raw, strict=True)]),
                "cpu_share": summary([r["cpu_s"] / r["seconds"] for r in runs]),
                "nats_cpu_share": summary([r["nats_cpu_share"] for r in runs]),
                "rss_peak_mib": summary([r["rss"]["peak_mib"] for r in runs]),
                "rss": runs[0]["rss"],
                "phases_s": phases,
                "checkpoints": runs[0].get("checkpoints") or {},
                "batch": runs[0]["batch"],
                "ack_pending_after": max(r["ack_pending_after"] for r in runs),
            }
            ceilings = self.results.setdefault("ceilings", {})
            ceilings["consume"] = summary(fetch) | {"count": size, "batch": 1000}
            ceilings["consume_raw"] = summary(raw) | {"count": size, "batch": 1000}
            self.end(f"ledger {size}", meter)
        assert kept is not None
        return kept

    def profile(self, server: NatsServer, size: int) -> None:
        meter = self.section(f"profile: the ledger under pyinstrument, {size:,} events")
        out = self.work / "ledger-profile.txt"
        result = self.child(
            "bench.ledger",
            nats=nats_args(server, "ledger"),
            db=str(self.work / "ledger-profile.duckdb"),
            last=size,
            durable="ledger",
            profile=str(out),
        )
        (self.work / "ledger-profile.duckdb").unlink(missing_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, self.out / "ledger-profile.txt")
        result["profile"] = _shown(self.out / "ledger-profile.txt")
        result["tree"] = report.profile_tree(out.read_text())
        self.results["profile"] = result
        self.end("profile", meter)

    def rebuild(self, db: Path, size: int) -> None:
        meter = self.section(f"rebuild: every projection from {size:,} events")
        runs = []
        for i in range(self.runs):
            copy = self.work / f"rebuild-{i}.duckdb"
            shutil.copy(db, copy)
            runs.append(self.child("bench.ledger", task="rebuild", db=str(copy)))
            copy.unlink()
            log(f"  run {i + 1}: {runs[-1]['seconds']:.1f}s")
        self.results["rebuild"] = {
            "events": size,
            "seconds": summary([r["seconds"] for r in runs]),
            "per_s": summary([r["per_s"] for r in runs]),
            "rss_peak_mib": summary([r["rss"]["peak_mib"] for r in runs]),
        }
        self.end("rebuild", meter)

    def queries(self, db: Path, size: int, key: str = "queries") -> None:
        meter = self.section(f"queries at {size:,} events")
        result = self.child(
            "bench.queries", db=str(db), seed=SEED, repeat=self.args.query_repeat, runs=self.runs
        )
        self.results[key] = {
            "events": result["events"],
            "repeat": result["repeat"],
            "questions": _asked(result["questions"]),
            "proofs": _asked(result.get("proofs", {})),
            "tree": result.get("tree", {}),
        }
        self.end(key, meter)

    def queries_at(self, size: int, db: Path) -> None:
        """The same questions on a ledger file of ``size`` events filled without the stream
        (``bench.ledger_file``; a file already there is reused)."""
        meter = self.section(f"a ledger file of {size:,} events (filled without the stream)")
        self.results["ledger_file"] = child(
            "bench.ledger_file",
            {"db": str(db), "events": size, "seed": SEED},
            log=self.logfile,
            timeout=6 * 3600,
        )
        self.end("ledger_file", meter)
        self.queries(db, size, key="queries_big")

    def intake(self, server: NatsServer, label: str, transports: tuple[str, ...]) -> None:
        meter = self.section(f"intake ({label}): {', '.join(transports)}, {self.runs} runs each")
        service = IntakeProcess(
            server.url, self.work / f"intake-{label}.log", nats_env=service_env(server, "intake")
        ).start()
        out: dict[str, Any] = {}
        try:
            for transport in transports:
                responder = (
                    Responder(nats_args(server, "intake"), self.work / "responder.log").start()
                    if transport == "nats-ping"
                    else None
                )
                try:
                    runs = [
                        self.drive(service, server, label, transport, i) for i in range(self.runs)
                    ]
                finally:
                    if responder:
                        responder.stop()
                statuses: dict[str, int] = {}
                for r in runs:
                    for k, v in r["statuses"].items():
                        statuses[k] = statuses.get(k, 0) + v
                out[transport] = {
                    "per_s": summary([r["per_s"] for r in runs]),
                    "p50_ms": summary([r["p50_ms"] for r in runs]),
                    "p95_ms": summary([r["p95_ms"] for r in runs]),
                    "p99_ms": summary([r["p99_ms"] for r in runs]),
                    "statuses": statuses,
                    "concurrency": runs[0]["concurrency"],
                    "seconds_per_run": runs[0]["duration_s"],
                    "intake_cpu_share": summary([r["intake_cpu_share"] for r in runs]),
                    "nats_cpu_share": summary([r["nats_cpu_share"] for r in runs]),
                    "driver_cpu_share": summary([r["driver_cpu_share"] for r in runs]),
                    "commands": runs[0]["commands"],
                }
        finally:
            service.stop()
        self.results.setdefault("intake", {})[label] = out
        self.end(f"intake {label}", meter)

    def drive(
        self, service: IntakeProcess, server: NatsServer, label: str, transport: str, i: int
    ) -> dict[str, Any]:
        """One run of the load driver, with the CPU intake and nats-server used meanwhile."""
        over_nats = transport in ("nats", "nats-ping")
        cpu_intake, cpu_nats = service.cpu_seconds(), cpu_seconds(server.pid or 0)
        started = time.perf_counter()
        result = self.child(
            "bench.intake",
            transport="nats" if over_nats else "http",
            ping=transport in report.PINGS,
            url=service.url,
            tokens=service.tokens,
            nats=nats_args(server, PING_USER if transport == "nats-ping" else "channel"),
            concurrency=self.args.intake_concurrency,
            warmup=1.0,
            duration=self.args.intake_seconds,
            seed=SEED,
            tag=f"{label}-{transport}-{i}",
        )
        wall = time.perf_counter() - started
        result["intake_cpu_share"] = (service.cpu_seconds() - cpu_intake) / wall
        result["nats_cpu_share"] = (cpu_seconds(server.pid or 0) - cpu_nats) / wall
        log(
            f"  {transport} run {i + 1} ({label}): {result['per_s']:,.0f}/s, "
            f"p99 {result['p99_ms']:.1f} ms"
        )
        return result

    def security(self, server: NatsServer, events: int) -> None:
        """The ledger and intake with TLS and authentication on and off (``bench.security``);
        stops ``server``."""
        meter = self.section(
            f"security cost: ledger over {events:,} events, then intake over HTTP; "
            f"secure and insecure alternately, {self.runs} runs each"
        )
        self.results["security"] = found = security.measure(self, server, events)
        for service in ("ledger", "intake"):
            s = found[service]
            log(
                f"  {service}: secure {s['secure']['median']:,.0f}, insecure "
                f"{s['insecure']['median']:,.0f} {s['unit']}; secure/insecure "
                f"{s['ratio']['median']:.2f} (cost {s['cost']:.0%}, limit {found['limit']:.0%})"
            )
        self.end("security", meter)

    def publish_default_sync(self, server: NatsServer) -> None:
        meter = self.section("JetStream publish with sync_interval 2m (nats-server's default)")
        out: dict[str, Any] = {}
        out |= self.publish_runs(server, "default")
        self.results["sync_default_publish"] = out
        self.end("publish 2m", meter)

    def peer(self, size: int) -> None:
        meter = self.section("peer: eventsourcing (SQLite)")
        out: dict[str, Any] = {}
        for mode, count in (("batched", size), ("per_event", self.args.peer_per_event)):
            runs = [
                self.child(
                    "bench.peer", count=count, seed=SEED, mode=mode, batch=1000, dir=str(self.work)
                )
                for _ in range(self.runs)
            ]
            if "skipped" in runs[0]:
                out = {"skipped": runs[0]["skipped"]}
                break
            out[mode] = summary([r["per_s"] for r in runs]) | {"events": count}
            out["version"] = runs[0]["version"]
            log(f"  {mode}: {out[mode]['median']:,.0f} events/s")
        self.results["peer"] = out
        self.end("peer", meter)


def _asked(questions: dict[str, Any]) -> dict[str, Any]:
    """Each question's p50 and p99 over the runs, and the rows (hashes) of an answer."""
    return {
        name: {
            "p50_ms": summary(q["p50_ms"]),
            "p99_ms": summary(q["p99_ms"]),
            "rows": statistics.mean(q["rows"]),
        }
        for name, q in questions.items()
    }


def _shown(path: Path) -> str:
    """``path`` as the report names it: from the repository's root when it is inside."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def wait_for_quiet(limit: float) -> dict[str, Any]:
    """Give other processes on the machine up to ``limit`` seconds to calm down."""
    started = time.monotonic()
    meter = LoadMeter().start()
    while True:
        time.sleep(2)
        seen = meter.stop()
        if seen.get("others_cores", 0) < 0.3 or time.monotonic() - started > limit:
            return seen | {"waited_s": round(time.monotonic() - started, 1)}
        meter = LoadMeter().start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="1M events (about 30-40 min)")
    parser.add_argument("--events", type=int, help="events in the stream (default 200k)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (at least 3)")
    parser.add_argument("--intake-concurrency", type=int, default=16)
    parser.add_argument("--intake-seconds", type=float, default=5.0)
    parser.add_argument("--publish-awaited", type=int, default=2000)
    parser.add_argument("--publish-pipelined", type=int, default=10_000)
    parser.add_argument("--peer-per-event", type=int, default=3000)
    parser.add_argument("--query-repeat", type=int, default=200)
    parser.add_argument(
        "--query-events",
        type=int,
        default=0,
        help="also ask the queries at this many events (10M: hours), on --query-db",
    )
    parser.add_argument(
        "--query-db", type=Path, help="the ledger file for --query-events (kept; reused)"
    )
    parser.add_argument("--profile-events", type=int, default=50_000)
    parser.add_argument(
        "--security-events",
        type=int,
        default=100_000,
        help="events the ledger consumes secure and insecure (at most --events)",
    )
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--no-docs", action="store_true", help="do not append to bench/results/runs.md"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="where latest.json and the profile go (default bench/results)",
    )
    args = parser.parse_args(argv)
    size = args.events or (1_000_000 if args.full else 200_000)
    sizes = sorted({min(200_000, size), size})
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="careledger-bench-"))
    bench = Bench(args, work)
    results = bench.results
    results["meta"] = report.machine() | {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "seed": SEED,
        "mode": "full" if size >= 1_000_000 else "default",
        "quiet_before": wait_for_quiet(args.quiet_wait),
    }
    log(f"work directory {work}; {size:,} events; machine {results['meta']['cpu_model']}")
    servers: list[NatsServer] = []
    failed = True
    try:
        meter = bench.section(f"generating {size:,} events (seed {SEED})")
        generated = generate(size, seed=SEED)
        results["events"] = generated.summary()
        bench.end("generate", meter)

        meter = bench.section("pre-filling the event stream (sync 2m), then restart with always")
        filling = start_server(work, "nats-events", DEFAULT_SYNC)
        servers.append(filling)
        asyncio.run(provision(filling))
        results["prefill"] = asyncio.run(prefill(filling, generated.messages))
        del generated
        filling.stop()
        events = start_server(work, "nats-events", ALWAYS, port=filling.port)
        servers.append(events)
        bench.end("prefill", meter)

        bench.ceilings(events, size)
        kept = bench.ledger(events, sizes)
        bench.profile(events, min(args.profile_events, size))
        bench.rebuild(kept, size)
        bench.queries(kept, size)
        bench.intake(events, "always", ("healthz", "nats-ping", "http", "nats"))
        bench.security(events, min(args.security_events, size))
        events.stop()

        default = start_server(work, "nats-default", DEFAULT_SYNC)
        servers.append(default)
        asyncio.run(provision(default))
        bench.publish_default_sync(default)
        bench.intake(default, "default", ("http", "nats"))
        default.stop()

        bench.peer(size)
        if args.query_events:
            bench.queries_at(args.query_events, args.query_db or work / "big.duckdb")
        failed = False
    finally:
        for server in servers:
            server.stop()
        results["meta"]["wall_seconds"] = time.perf_counter() - started
        if failed:
            log(f"failed: logs kept in {work}")
        elif not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["targets"] = report.targets(results)
    args.results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, default=str)
    (args.results / "latest.json").write_text(text)
    log(f"wrote {args.results / 'latest.json'}")
    if not args.no_docs:
        report.append_markdown(results)
        log(f"appended to {report.RUN_LOG.relative_to(ROOT)}")
    log(f"bench took {results['meta']['wall_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
