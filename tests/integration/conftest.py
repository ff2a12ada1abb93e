"""Intake running in-process against a real nats-server, driven over HTTP and NATS."""

import base64
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from careledger.contracts.subjects import IDEMPOTENCY_KEY
from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings
from careledger.runtime.streams import StreamSettings
from careledger.stack.nats_server import NatsServer
from tests.support.nats import provisioned, service_settings
from tests.support.principals import Principals, write_principals


@dataclass
class RunningIntake:
    client: AsyncTestClient[Any]
    service: IntakeService
    server: NatsServer
    master_key: bytes
    principals: Principals  # the client's token is sent with every request of ``client``

    async def post(self, command: str, payload: dict[str, Any], key: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/commands/{command}", json=payload, headers={IDEMPOTENCY_KEY: key}
        )


IntakeFactory = Callable[..., Any]


@pytest.fixture
def master_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def principals(tmp_path: Path) -> Principals:
    """A clients file (and an auditors file) with fresh tokens: intake runs the secure way."""
    return write_principals(tmp_path / "principals")


@pytest.fixture
async def intake(
    nats_server: NatsServer, master_key: bytes, principals: Principals
) -> AsyncIterator[RunningIntake]:
    async for running in _intake(nats_server, master_key, principals, duplicate_window=120.0):
        yield running


@pytest.fixture
async def intake_short_window(
    bare_nats_server: NatsServer, master_key: bytes, principals: Principals
) -> AsyncIterator[RunningIntake]:
    """Intake whose stream forgets Nats-Msg-Id after one second (provisioned so by the admin:
    intake only checks it)."""
    await provisioned(bare_nats_server, StreamSettings(duplicate_window=1.0))
    async for running in _intake(bare_nats_server, master_key, principals, duplicate_window=1.0):
        yield running


async def _intake(
    server: NatsServer, master_key: bytes, principals: Principals, *, duplicate_window: float
) -> AsyncIterator[RunningIntake]:
    settings = Settings(
        **service_settings(server, "intake"),
        publish_timeout=1.0,
        stream=StreamSettings(duplicate_window=duplicate_window),
        clients_file=principals.clients_file,
    )
    environ = {"CARELEDGER_MASTER_KEY": base64.b64encode(master_key).decode()}
    service = IntakeService(settings, environ=environ)
    async with AsyncTestClient(service.http_app()) as client:
        client.headers.update(principals.intake_headers())
        yield RunningIntake(client, service, server, master_key, principals)
