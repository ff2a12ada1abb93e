"""deploy/nats/cluster/n{1,2,3}.conf as shipped form a JetStream cluster that keeps every
acknowledged message when the stream leader is killed (DESIGN §8).

The three configs are rendered into tmp_path with free loopback ports and private store dirs
(nothing else changes), started as real nats-server processes and stopped by PID.
"""

import asyncio
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig, StreamInfo

from careledger.stack.nats_server import free_port, nats_server_binary, signal_and_wait

pytestmark = pytest.mark.integration

CLUSTER_DIR = Path(__file__).parents[2] / "deploy" / "nats" / "cluster"
NODES = ("n1", "n2", "n3")
STREAM = "CLUSTER_PROBE"
MESSAGES = 100
HOST_PORT = re.compile(r"\b(?:0\.0\.0\.0|127\.0\.0\.1|localhost):(\d+)\b")
T = TypeVar("T")
STORE_DIR = re.compile(r"^(\s*store_dir\s*:\s*).*$", re.MULTILINE)


@dataclass
class Node:
    server_name: str
    config: Path
    client_port: int
    http_port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        if self.process is not None:
            signal_and_wait(self.process, sig, timeout)

    def js_healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.http_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False


def _top_level(text: str, key: str) -> str:
    match = re.search(rf"^{key}\s*:\s*(\S+)", text, re.MULTILINE)
    assert match, f"no top-level {key}: in the cluster config"
    return match.group(1).strip("\"'")


def _unique_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def render_cluster(tmp_path: Path) -> list[Node]:
    """The shipped configs with every host:port moved to a free loopback port (consistently
    across the three files, so the routes still meet) and each store_dir under tmp_path."""
    texts = {name: (CLUSTER_DIR / f"{name}.conf").read_text() for name in NODES}
    shipped = sorted({int(port) for text in texts.values() for port in HOST_PORT.findall(text)})
    assert len(shipped) >= 9, f"expected client, route and monitoring ports, found {shipped}"
    moved = dict(zip(shipped, _unique_free_ports(len(shipped)), strict=True))
    nodes = []
    for name, text in texts.items():
        home = tmp_path / name
        home.mkdir()
        text = HOST_PORT.sub(lambda m: f"127.0.0.1:{moved[int(m.group(1))]}", text)
        text, stores = STORE_DIR.subn(rf'\1"{home / "jetstream"}"', text)
        assert stores == 1, f"{name}.conf: expected one store_dir"
        config = home / "nats-server.conf"
        config.write_text(text)
        nodes.append(
            Node(
                server_name=_top_level(text, "server_name"),
                config=config,
                client_port=int(_top_level(text, "listen").rsplit(":", 1)[1]),
                http_port=int(_top_level(text, "http").rsplit(":", 1)[1]),
                log=home / "nats-server.log",
            )
        )
    return nodes


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Node]]:
    nodes = render_cluster(tmp_path)
    try:
        for node in nodes:
            node.start()
        deadline = time.monotonic() + 15
        while not all(node.js_healthy() for node in nodes):
            for node in nodes:
                assert node.process is not None
                if node.process.poll() is not None:
                    pytest.fail(f"{node.server_name} exited:\n{node.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the cluster's JetStream did not become healthy within 15 s")
            time.sleep(0.05)
        yield {node.server_name: node for node in nodes}
    finally:
        for node in nodes:
            node.signal(signal.SIGTERM)


async def _eventually(what: str, attempt: Callable[[], Awaitable[T | None]], within: float) -> T:
    """Retry ``attempt`` until it returns a result; NATS errors count as "not yet"."""
    deadline = time.monotonic() + within
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = await attempt()
        except (TimeoutError, nats.errors.Error) as error:
            last = error
        else:
            if result is not None:
                return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} within {within} s (last error: {last!r})")


async def _connect(*nodes: Node) -> Client:
    return await nats.connect(
        servers=[node.url for node in nodes], connect_timeout=2, max_reconnect_attempts=5
    )


async def test_an_r3_stream_keeps_every_acknowledged_message_when_its_leader_is_killed(
    cluster: dict[str, Node],
) -> None:
    nodes = list(cluster.values())
    payloads = [f"event-{i:03d}".encode() for i in range(MESSAGES)]

    nc = await _connect(*nodes)
    try:
        js = nc.jetstream(timeout=2.0)
        config = StreamConfig(
            name=STREAM, subjects=["probe.>"], storage=StorageType.FILE, num_replicas=3
        )

        async def create() -> StreamInfo:
            # The meta leader may still be in election right after the nodes report healthy.
            return await js.add_stream(config)

        created = await _eventually("the cluster accepts an R3 stream", create, within=10)
        assert created.config.num_replicas == 3

        acks = await asyncio.gather(
            *(js.publish(f"probe.{i % 10}", data, stream=STREAM) for i, data in enumerate(payloads))
        )
        assert sorted(ack.seq for ack in acks) == list(range(1, MESSAGES + 1))
        sent = {ack.seq: data for ack, data in zip(acks, payloads, strict=True)}
        info = await js.stream_info(STREAM)
    finally:
        await nc.close()

    assert info.cluster is not None and info.cluster.leader in cluster, info.cluster
    assert len(info.cluster.replicas or []) == 2, "the stream must live on all three nodes"
    old_leader = info.cluster.leader
    cluster[old_leader].signal(signal.SIGKILL)
    survivors = [node for name, node in cluster.items() if name != old_leader]

    nc = await _connect(survivors[0])
    try:
        js = nc.jetstream(timeout=1.0)

        async def new_leader() -> StreamInfo | None:
            info = await js.stream_info(STREAM)
            leader = info.cluster.leader if info.cluster else None
            return info if leader not in (None, old_leader) else None

        elected = await _eventually("a surviving node leads the stream", new_leader, within=15)
        assert elected.cluster is not None and elected.cluster.leader in cluster
        assert elected.state.messages == MESSAGES
        assert elected.state.first_seq == 1 and elected.state.last_seq == MESSAGES

        read = {seq: (await js.get_msg(STREAM, seq)).data for seq in sent}
        assert read == sent
    finally:
        await nc.close()
