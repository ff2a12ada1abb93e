"""Fixtures and hooks shared by every test layer: real nats-server processes on free ports,
with TLS and NKey users as every shipped configuration has them, and a session that leaves
the garbage collector's callbacks as it found them."""

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from careledger.stack.nats_server import NatsServer
from tests.support.nats import provision_now

GcCallback = Callable[[Literal["start", "stop"], dict[str, int]], object]
_GC_CALLBACKS = pytest.StashKey[list[GcCallback]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_GC_CALLBACKS] = list(gc.callbacks)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave ``gc.callbacks`` as the session found it. Hypothesis adds one to time the
    collector; left in place, it outlives module teardown and keeps pytest's objects
    (fixtures annotated with DuckDB types among them) from the interpreter's last
    collection, so DuckDB's bindings report them as leaked at exit."""
    before = config.stash[_GC_CALLBACKS]
    gc.callbacks[:] = before


@pytest.fixture
def bare_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh secure nats-server (JetStream, sync_interval: always) with nothing provisioned,
    stopped by PID afterwards. Its ``channel`` user may send every command, erasure included;
    its ``kiosk`` user every command but erasure, as a channel system without the grant."""
    server = NatsServer(
        tmp_path / "nats", channels=("channel", "kiosk"), privacy_channels=("channel",)
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_server(bare_nats_server: NatsServer) -> NatsServer:
    """A fresh secure nats-server with the streams and the vault bucket provisioned by the
    admin, as ``make run`` and a deployment have them before the services start."""
    provision_now(bare_nats_server)
    return bare_nats_server
