"""Fixtures shared by every test layer: real nats-server processes on free ports."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from careledger.stack.nats_server import NatsServer


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh nats-server (JetStream, sync_interval: always) stopped by PID afterwards."""
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()
