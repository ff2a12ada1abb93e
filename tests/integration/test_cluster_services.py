"""Both services on the shipped 3-node JetStream cluster (deploy/nats/cluster/; see
docs/architecture.md): the event stream's leader is SIGKILLed under load and no acknowledged
event is lost.

Three real nats-server processes (``tests/support/nats_cluster.py``), intake and the ledger
as real processes with ``NATS_URL`` listing all three and ``CARELEDGER_STREAM_REPLICAS=3``.
A load driver (the fault suite's, ``tests/chaos/harness.py``) tells customer-care stories
over HTTP, retrying every 503, connection error and timeout with the same Idempotency-Key.

Before the load, the stream's and the ledger consumer's leaders are moved (a stepdown with a
preferred placement) to the node intake is connected to. At a quarter of the load the
stream leader (``stream_info().cluster.leader``) is SIGKILLed, taking intake's server with
it; at 40% it is started again on its store. If the ledger was connected elsewhere, its node
is SIGKILLed next (once the restarted node is current again) and restarted a sixth of the
load later, so both services lose their server. Neither service is restarted.

Then: every 2xx is exactly once in the stream (read from a node never killed, or the
restarted one once current) and exactly once in the ledger's events table, the ledger
verifies, both services kept their PIDs and are connected again, the ledger's position
reached the stream's last sequence and intake accepted commands while a node was down and
after. Every process is stopped by its PID.
"""

import asyncio
import base64
import contextlib
import json
import os
import random
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.js.api import StreamInfo

from careledger.contracts.subjects import DLQ_STREAM, EVENT_STREAM
from careledger.ledger.entrypoints.admin import provision
from careledger.runtime.streams import ACCESS_STREAM, CHECKPOINT_STREAM, StreamSettings
from careledger.vault import VAULT_STREAM
from tests.chaos.harness import (
    Command,
    IntakeProcess,
    LoadDriver,
    Plan,
    Tally,
    check,
    readiness,
    stories,
    tail,
)
from tests.support.ledger_process import LedgerProcess
from tests.support.nats import access_env
from tests.support.nats_cluster import Node, access, connected_nodes, running_cluster
from tests.support.scenario import Story

pytestmark = pytest.mark.integration

COMMANDS = 600
CONCURRENCY = 8


@dataclass
class Stack:
    nodes: dict[str, Node]
    intake: IntakeProcess
    ledger: LedgerProcess
    tmp: Path

    @property
    def nats_urls(self) -> str:
        return ",".join(node.url for node in self.nodes.values())

    def connections(self) -> dict[str, list[str]]:
        """The nodes each service is connected to, by process id."""
        processes = {"intake": self.intake.process, "ledger": self.ledger.process}
        return {
            name: connected_nodes(process.pid, self.nodes.values()) if process else []
            for name, process in processes.items()
        }

    def logs(self) -> str:
        paths = [(n.server_name, n.log) for n in self.nodes.values()]
        paths += [("intake", self.intake.log_path), ("ledger", self.tmp / "ledger.log")]
        return "\n".join(f"--- {name} ---\n{tail(path)}" for name, path in paths)


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("CARELEDGER_STREAM_REPLICAS", "3")  # the ledger inherits it
    env = {k: v for k, v in os.environ.items() if k != "CARELEDGER_MASTER_KEY_FILE"}
    env["CARELEDGER_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    with running_cluster(tmp_path / "nats") as nodes:
        every = list(nodes.values())
        asyncio.run(provision(access(every, "admin"), StreamSettings(replicas=3)))
        urls = ",".join(node.url for node in every)
        intake = IntakeProcess(urls, env | access_env(access(every, "intake")), tmp_path / "i.log")
        ledger = LedgerProcess(
            access(every, "ledger"), tmp_path / "ledger.duckdb", log_path=tmp_path / "ledger.log"
        )
        try:
            intake.start()
            ledger.start()
            yield Stack(nodes, intake, ledger, tmp_path)
        finally:
            ledger.stop()
            intake.stop()


@dataclass
class Outage:
    """One node SIGKILLed under load and started again later on its store."""

    node: str
    why: str
    at_command: int
    connected_before: dict[str, list[str]]
    stream_leader_after: str = ""
    election_seconds: float = 0.0
    restarted_at_command: int = 0
    down_seconds: float = 0.0
    accepted_while_down: int = 0

    def render(self, total: int) -> str:
        return (
            f"{self.node} ({self.why}; intake/ledger on {self.connected_before}) SIGKILLed at "
            f"command {self.at_command}/{total}; stream led by {self.stream_leader_after} "
            f"{self.election_seconds:.1f} s later; {self.accepted_while_down} commands "
            f"accepted while it was down; restarted at command {self.restarted_at_command} "
            f"after {self.down_seconds:.1f} s"
        )


async def stream_info(nodes: list[Node], stream: str = EVENT_STREAM) -> StreamInfo:
    nc = await nats.connect(**access(nodes, "admin").connect_options(), connect_timeout=2)
    try:
        return await nc.jetstream(timeout=2).stream_info(stream)
    finally:
        await nc.close()


async def replicas(nodes: list[Node]) -> dict[str, int | None]:
    """How many replicas each stream the services created has."""
    streams = (EVENT_STREAM, DLQ_STREAM, VAULT_STREAM, ACCESS_STREAM, CHECKPOINT_STREAM)
    return {s: (await stream_info(nodes, s)).config.num_replicas for s in streams}


async def stream_leader(nodes: list[Node], *, not_: str = "", within: float = 30) -> StreamInfo:
    """The event stream's info once a leader other than ``not_`` leads it."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        try:
            info = await stream_info(nodes)
        except (TimeoutError, nats.errors.Error) as exc:
            last = exc
        else:
            leader = info.cluster.leader if info.cluster else None
            if leader and leader != not_:
                return info
            last = info.cluster
        await asyncio.sleep(0.1)
    raise AssertionError(f"no stream leader (other than {not_!r}) in {within} s: {last!r}")


async def leaders(nodes: list[Node]) -> dict[str, str | None]:
    nc = await nats.connect(**access(nodes, "admin").connect_options(), connect_timeout=2)
    try:
        js = nc.jetstream(timeout=2)
        stream = (await js.stream_info(EVENT_STREAM)).cluster
        consumer = (await js.consumer_info(EVENT_STREAM, "ledger")).cluster
        return {
            "stream": stream.leader if stream else None,
            "consumer": consumer.leader if consumer else None,
        }
    finally:
        await nc.close()


async def lead_from(nodes: list[Node], target: str, within: float = 30) -> None:
    """Move the event stream's and the ledger consumer's leaders to ``target`` (a stepdown
    with a preferred placement), so the leader kill also takes away intake's server."""
    subjects = {
        "stream": f"$JS.API.STREAM.LEADER.STEPDOWN.{EVENT_STREAM}",
        "consumer": f"$JS.API.CONSUMER.LEADER.STEPDOWN.{EVENT_STREAM}.ledger",
    }
    request = json.dumps({"placement": {"preferred": target}}).encode()
    deadline = time.monotonic() + within
    now = await leaders(nodes)
    while now != {"stream": target, "consumer": target}:
        assert time.monotonic() < deadline, f"leaders stay {now}, wanted {target}"
        nc = await nats.connect(**access(nodes, "admin").connect_options(), connect_timeout=2)
        try:
            for what, subject in subjects.items():
                if now[what] != target:
                    # The reply can be lost while leadership moves: look again, ask again.
                    with contextlib.suppress(nats.errors.TimeoutError):
                        await nc.request(subject, request, timeout=5)
        finally:
            await nc.close()
        await asyncio.sleep(1.0)
        now = await leaders(nodes)


async def outage(
    stack: Stack, driver: LoadDriver, commands: list[Command], node: Node, why: str, back_at: int
) -> Outage:
    """SIGKILL ``node`` now; start it again once ``back_at`` commands are answered."""
    done = Outage(node.server_name, why, driver.done, stack.connections())
    accepted_before = sum(c.accepted for c in commands)
    killed = time.monotonic()
    node.signal(signal.SIGKILL)
    survivors = [n for n in stack.nodes.values() if n is not node]
    elected = await stream_leader(survivors, not_=node.server_name)
    assert elected.cluster is not None
    done.stream_leader_after = str(elected.cluster.leader)
    done.election_seconds = time.monotonic() - killed
    await driver.reached(back_at)
    done.accepted_while_down = sum(c.accepted for c in commands) - accepted_before
    done.restarted_at_command = driver.done
    done.down_seconds = time.monotonic() - killed
    node.start()
    await asyncio.to_thread(node.wait_healthy, 30.0)
    return done


async def faults(
    stack: Stack, driver: LoadDriver, commands: list[Command], outages: list[Outage]
) -> None:
    total = len(commands)
    await driver.reached(total // 4)
    info = await stream_leader(list(stack.nodes.values()))
    assert info.cluster is not None and info.cluster.leader is not None
    leader = stack.nodes[info.cluster.leader]
    outages.append(await outage(stack, driver, commands, leader, "stream leader", 2 * total // 5))
    ledger_on = stack.connections()["ledger"]
    if leader.server_name not in outages[0].connected_before["ledger"] and ledger_on:
        await asyncio.to_thread(wait_current, list(stack.nodes.values()))
        node = stack.nodes[ledger_on[0]]
        back_at = driver.done + total // 6
        outages.append(await outage(stack, driver, commands, node, "the ledger's server", back_at))


def wait_current(nodes: list[Node], within: float = 30.0) -> None:
    """Until every node's full /healthz answers 200: its streams and consumers are current
    (so killing another node leaves a quorum that has everything)."""
    deadline = time.monotonic() + within
    while not all(node.current() for node in nodes):
        assert time.monotonic() < deadline, "the restarted node did not catch up"
        time.sleep(0.1)


async def test_killing_the_stream_leader_under_load_loses_no_acknowledged_event(
    stack: Stack,
) -> None:
    plan = Plan(
        "cluster", commands=COMMANDS, concurrency=CONCURRENCY, seed=secrets.randbelow(2**31)
    )
    told = stories(plan, random.Random(plan.seed))
    for story in told:
        for command in story:
            command.transport = "http"
    commands = [c for story in told for c in story]
    nodes = list(stack.nodes.values())
    assert stack.intake.process is not None and stack.ledger.process is not None
    pids = {"intake": stack.intake.process.pid, "ledger": stack.ledger.process.pid}
    assert await replicas(nodes) == dict.fromkeys(
        (EVENT_STREAM, DLQ_STREAM, VAULT_STREAM, ACCESS_STREAM, CHECKPOINT_STREAM), 3
    )
    connected = stack.connections()
    assert all(len(on) == 1 for on in connected.values()), connected
    await lead_from(nodes, connected["intake"][0])
    rng = random.Random(plan.seed + 1)
    channel = access(nodes[:1], "channel")
    driver = LoadDriver(plan, stack.intake.url, channel, rng, token=stack.intake.token)
    outages: list[Outage] = []
    began = time.monotonic()
    try:
        await asyncio.gather(driver.run(told), faults(stack, driver, commands, outages))
    except BaseException:
        print(stack.logs())
        raise
    load_seconds = time.monotonic() - began

    # Intake accepts a new command afterwards, without having been restarted.
    fresh = Story()
    name, payload = fresh.commands()[0]
    after = Command(
        len(told), name, payload, f"after-{secrets.token_hex(8)}", "http", fresh.subject_id
    )
    again = LoadDriver(plan, stack.intake.url, channel, random.Random(0), token=stack.intake.token)
    await again.run([[after]])
    assert after.status == 201, (after.status, dict(after.seen))
    told.append([after])

    # The ledger catches up by itself.
    await asyncio.to_thread(wait_current, nodes)
    last = (await stream_info(nodes)).state.last_seq
    caught = time.monotonic()
    try:
        position = await asyncio.to_thread(stack.ledger.wait_caught_up, last, 60.0)
    except TimeoutError:
        print(stack.logs())
        raise
    catch_up = time.monotonic() - caught
    assert position["ledger_sequence"] == last
    verified = stack.ledger.get("/v1/ledger/verify")
    ready = readiness(stack.ledger.url)
    assert stack.intake.process is not None and stack.ledger.process is not None
    assert {"intake": stack.intake.process.pid, "ledger": stack.ledger.process.pid} == pids
    assert stack.intake.process.poll() is None and stack.ledger.process.poll() is None
    connected_after = stack.connections()
    stack.ledger.stop()
    stack.intake.stop()

    never_killed = [n for n in nodes if n.server_name not in {o.node for o in outages}]
    tally = await check(
        plan,
        told,
        driver.replays,
        access((never_killed or nodes)[:1], "admin"),
        stack.ledger.db_path,
        Tally(plan),
    )
    tally.seconds, tally.catch_up_seconds, tally.readiness_at_end = load_seconds, catch_up, ready
    tally.faults.update(f"node-kill ({o.why})" for o in outages)
    tally.timeline = [f"{o.node}@{o.at_command} ({o.down_seconds:.1f} s down)" for o in outages]
    lost_server = {s for o in outages for s, on in o.connected_before.items() if o.node in on}
    print()
    for o in outages:
        print(o.render(len(commands)))
    print(
        f"load {load_seconds:.1f} s; ledger caught up {catch_up:.1f} s after the last answer; "
        f"intake answered {after.status} afterwards ({after.attempts} attempt(s))"
    )
    print(f"connections now {connected_after}; lost their server and reconnected: {lost_server}")
    print(f"ledger /readyz {ready}; verify {verified}")
    print(tally.render())
    print(f"  logs and files: {stack.tmp}")

    assert not tally.problems, tally.render()
    assert verified["ok"], verified
    assert tally.unknown == 0 and tally.final_5xx == 0
    assert tally.accepted + tally.rejected == tally.sent
    assert tally.in_stream == tally.in_ledger == tally.accepted  # acknowledged == stored
    assert outages[0].why == "stream leader" and outages[0].accepted_while_down > 0
    assert lost_server == {"intake", "ledger"}, [o.connected_before for o in outages]
    assert all(len(on) == 1 for on in connected_after.values()), connected_after
