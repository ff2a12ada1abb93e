"""The cost of security (issue 16): the ledger and intake with TLS and authentication on and
off, in the same run, on the same machine state.

One JetStream store (the event stream the bench filled) is served by a nats-server restarted
in one of two flavours, on the same port: *secure* as shipped (TLS, the NKey users of
``careledger.stack.trust`` with their permissions; intake reads a clients file and each HTTP
command carries its client's bearer token) or *insecure* (plaintext, no users; intake runs
with ``CARELEDGER_INSECURE_DEV=1``, no token). The runs alternate, secure then insecure,
``runs`` pairs, so that a drift of the machine falls on both; each pair's ratio is
secure / insecure, and the cost judged is one minus the median of those ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench.common import cpu_seconds, log, summary
from bench.intake import IntakeProcess
from bench.stack import nats_args, service_env
from careledger.stack.nats_server import NatsServer

if TYPE_CHECKING:
    from bench.run import Bench

COST_LIMIT = 0.15  # issue 16: security may cost at most 15% of either service's throughput
FLAVOURS = (("secure", True), ("insecure", False))
REFUSED = ("401", "403")


def cost(secure: Sequence[float], insecure: Sequence[float]) -> dict[str, Any]:
    """Both flavours' figures, the ratio of each back-to-back pair, and the verdict."""
    pairs = [s / i for s, i in zip(secure, insecure, strict=True)]
    ratio = statistics.median(pairs)
    return {
        "secure": summary(secure),
        "insecure": summary(insecure),
        "ratio": summary(pairs),
        "ratio_of_medians": statistics.median(secure) / statistics.median(insecure),
        "cost": 1 - ratio,
        "met": 1 - ratio <= COST_LIMIT,
    }


class Flavours:
    """The store of ``server`` served one flavour at a time (the previous server stopped)."""

    def __init__(self, server: NatsServer) -> None:
        self.template = server
        self.current = server

    def serve(self, secure: bool) -> NatsServer:
        self.current.stop()
        t = self.template
        self.current = NatsServer(
            t.store_dir,
            port=t.port,
            sync_interval=t.sync_interval,
            secure=secure,
            secrets_dir=t.secrets_dir,
            channels=t.channels,
            privacy_channels=t.privacy_channels,
        ).start(timeout=60)
        return self.current

    def stop(self) -> None:
        self.current.stop()


Run = Callable[[NatsServer, str, bool, int], dict[str, Any]]


def alternate(bench: Bench, flavours: Flavours, run: Run) -> dict[str, list[dict[str, Any]]]:
    """``run`` on each flavour in turn, ``bench.runs`` times: secure, insecure, secure, …"""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in FLAVOURS}
    for i in range(bench.runs):
        for name, secure in FLAVOURS:
            out[name].append(run(flavours.serve(secure), name, secure, i))
    return out


def ledger_run(bench: Bench, events: int) -> Run:
    def run(server: NatsServer, name: str, secure: bool, i: int) -> dict[str, Any]:
        db = bench.work / f"ledger-security-{name}-{i}.duckdb"
        cpu_nats = cpu_seconds(server.pid or 0)
        result = bench.child(
            "bench.ledger",
            nats=nats_args(server, "ledger"),
            db=str(db),
            last=events,
            durable="ledger",
        )
        db.unlink(missing_ok=True)
        if result["rejected"] or result["events"] != events:
            raise RuntimeError(f"{name} ledger run applied {result['events']} of {events}")
        result["cpu_share"] = result["cpu_s"] / result["seconds"]
        result["nats_cpu_share"] = (cpu_seconds(server.pid or 0) - cpu_nats) / result["seconds"]
        log(f"  {name} run {i + 1}: ledger {result['per_s']:,.0f} events/s")
        return result

    return run


def intake_run(bench: Bench) -> Run:
    def run(server: NatsServer, name: str, secure: bool, i: int) -> dict[str, Any]:
        service = IntakeProcess(
            server.url,
            bench.work / f"intake-security-{name}.log",
            nats_env=service_env(server, "intake"),
            secure=secure,
        ).start()
        try:
            result = bench.drive(service, server, f"security-{name}", "http", i)
        finally:
            service.stop()
        refused = {k: v for k, v in result["statuses"].items() if k in REFUSED}
        if refused:
            raise RuntimeError(f"{name} intake refused the bench's commands: {refused}")
        return result

    return run


def _shares(runs: dict[str, list[dict[str, Any]]], *keys: str) -> dict[str, Any]:
    return {key: {name: summary([r[key] for r in rs]) for name, rs in runs.items()} for key in keys}


def measure(bench: Bench, server: NatsServer, events: int) -> dict[str, Any]:
    """The ledger over the first ``events`` events of ``server``'s stream, then intake over
    HTTP, each flavour ``bench.runs`` times; ``server`` is stopped, and so is every server
    started here."""
    flavours = Flavours(server)
    try:
        ledger = alternate(bench, flavours, ledger_run(bench, events))
        intake = alternate(bench, flavours, intake_run(bench))
    finally:
        flavours.stop()
    statuses: dict[str, dict[str, int]] = {}
    for name, runs in intake.items():
        for r in runs:
            for k, v in r["statuses"].items():
                statuses.setdefault(name, {})[k] = statuses.get(name, {}).get(k, 0) + v
    first = intake["secure"][0]
    return {
        "limit": COST_LIMIT,
        "order": [name for name, _ in FLAVOURS],
        "ledger": cost(
            [r["per_s"] for r in ledger["secure"]], [r["per_s"] for r in ledger["insecure"]]
        )
        | {"events": events, "unit": "events/s"}
        | _shares(ledger, "cpu_share", "nats_cpu_share"),
        "intake": cost(
            [r["per_s"] for r in intake["secure"]], [r["per_s"] for r in intake["insecure"]]
        )
        | {
            "unit": "cmds/s",
            "transport": "http",
            "concurrency": first["concurrency"],
            "seconds_per_run": first["duration_s"],
            "statuses": statuses,
        }
        | _shares(intake, "p99_ms", "intake_cpu_share", "nats_cpu_share", "driver_cpu_share"),
    }
