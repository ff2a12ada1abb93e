"""The shipped 3-node JetStream cluster (deploy/nats/cluster/n{1,2,3}.conf) as real
nats-server processes on free loopback ports, each with its own store under a temporary
directory, managed by PID.

Rendering changes only what must move: every host:port becomes a free loopback port
(consistently across the three files, so the routes still meet), each ``store_dir`` points
into the node's own directory, and the secrets (``var/nats-secrets`` as shipped: TLS for
clients and routes, the NKey users) are made under the temporary directory. Everything else
is run exactly as shipped.
"""

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from careledger.runtime.nats import NatsAccess
from careledger.stack.nats_server import free_port, nats_server_binary, signal_and_wait
from careledger.stack.secrets import ensure_tls, ensure_users, write_secret
from careledger.stack.trust import authorization, default_users, inbox

CLUSTER_DIR = Path(__file__).parents[2] / "deploy" / "nats" / "cluster"
NODES = ("n1", "n2", "n3")
HOST_PORT = re.compile(r"\b(?:0\.0\.0\.0|127\.0\.0\.1|localhost):(\d+)\b")
STORE_DIR = re.compile(r"^(\s*store_dir\s*:\s*).*$", re.MULTILINE)
SECRETS = re.compile(r'"[^"]*var/nats-secrets/')
INCLUDE = re.compile(r'^include "[^"]*var/nats-secrets/auth.conf"', re.MULTILINE)


def secrets_of(tmp_path: Path) -> Path:
    return tmp_path / "secrets"


def access(nodes: Iterable["Node"], user: str) -> NatsAccess:
    """How ``user`` reaches the cluster of ``nodes`` (every node's URL, the cluster's CA)."""
    nodes = list(nodes)
    secrets = nodes[0].secrets
    return NatsAccess(
        tuple(node.url for node in nodes),
        secrets / "tls" / "ca.pem",
        secrets / "nkeys" / f"{user}.nk",
        inbox(user),
    )


def _make_secrets(tmp_path: Path) -> Path:
    secrets = secrets_of(tmp_path)
    ensure_tls(secrets / "tls")
    users = default_users(privacy=("channel",))  # the load driver erases over NATS too
    keys = ensure_users(secrets / "nkeys", users)
    write_secret(secrets / "auth.conf", authorization(users, keys).encode())
    return secrets


@dataclass
class Node:
    server_name: str
    config: Path
    client_port: int
    http_port: int
    log: Path
    secrets: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.client_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        """Start on the same config and store (after a kill too)."""
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

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def js_healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.http_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def current(self) -> bool:
        """The full health check: JetStream up and every stream and consumer current."""
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def meta_leader(self) -> str | None:
        """The JetStream meta leader this node knows of (None while in election)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/jsz", timeout=1) as r:
                meta = json.loads(r.read()).get("meta_cluster") or {}
        except (OSError, ValueError):
            return None
        leader = meta.get("leader")
        return str(leader) if leader else None

    def wait_healthy(self, within: float = 15.0) -> None:
        wait_healthy([self], within)


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
    """The shipped configs with every host:port moved to a free loopback port and each
    store_dir under ``tmp_path``."""
    texts = {name: (CLUSTER_DIR / f"{name}.conf").read_text() for name in NODES}
    shipped = sorted({int(port) for text in texts.values() for port in HOST_PORT.findall(text)})
    assert len(shipped) >= 9, f"expected client, route and monitoring ports, found {shipped}"
    moved = dict(zip(shipped, _unique_free_ports(len(shipped)), strict=True))
    secrets = _make_secrets(tmp_path)
    nodes = []
    for name, text in texts.items():
        home = tmp_path / name
        home.mkdir(parents=True)
        text = HOST_PORT.sub(lambda m: f"127.0.0.1:{moved[int(m.group(1))]}", text)
        text, stores = STORE_DIR.subn(rf'\1"{home / "jetstream"}"', text)
        assert stores == 1, f"{name}.conf: expected one store_dir"
        auth = os.path.relpath(secrets / "auth.conf", home)  # include: relative to the file
        text, includes = INCLUDE.subn(f'include "{auth}"', text)
        text, paths = SECRETS.subn(f'"{secrets}/', text)
        assert (includes, paths) == (1, 5), f"{name}.conf: expected auth.conf and 5 TLS paths"
        config = home / "nats-server.conf"
        config.write_text(text)
        nodes.append(
            Node(
                server_name=_top_level(text, "server_name"),
                config=config,
                client_port=int(_top_level(text, "listen").rsplit(":", 1)[1]),
                http_port=int(_top_level(text, "http").rsplit(":", 1)[1]),
                log=home / "nats-server.log",
                secrets=secrets,
            )
        )
    return nodes


def wait_healthy(nodes: list[Node], within: float = 15.0) -> None:
    """Until every node's JetStream answers its health check and knows the meta leader (so
    streams can be created); fails if a node exits."""
    deadline = time.monotonic() + within
    while not all(node.js_healthy() and node.meta_leader() for node in nodes):
        for node in nodes:
            assert node.process is not None
            if node.process.poll() is not None:
                raise AssertionError(f"{node.server_name} exited:\n{node.log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"JetStream of {[n.server_name for n in nodes]} not healthy")
        time.sleep(0.05)


@contextmanager
def running_cluster(tmp_path: Path) -> Iterator[dict[str, Node]]:
    """The three nodes by server name, healthy; each stopped by its PID afterwards."""
    nodes = render_cluster(tmp_path)
    try:
        for node in nodes:
            node.start()
        wait_healthy(nodes)
        yield {node.server_name: node for node in nodes}
    finally:
        for node in nodes:
            node.signal(signal.SIGTERM)


def connected_nodes(pid: int, nodes: Iterable[Node]) -> list[str]:
    """The nodes process ``pid`` holds an established TCP connection to (read from /proc:
    its sockets' inodes, matched with its TCP table's remote ports)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    remote_ports = set()
    for table in ("tcp", "tcp6"):
        with suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                    remote_ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return sorted(node.server_name for node in nodes if node.client_port in remote_ports)
