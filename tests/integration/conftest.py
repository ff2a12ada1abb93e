"""Intake running in-process against a real nats-server, driven over HTTP and NATS."""

import base64
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from careledger.contracts.subjects import IDEMPOTENCY_KEY
from careledger.intake.adapters.provisioning import StreamSettings
from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings
from careledger.stack.nats_server import NatsServer


@dataclass
class RunningIntake:
    client: AsyncTestClient[Any]
    service: IntakeService
    server: NatsServer
    master_key: bytes

    async def post(self, command: str, payload: dict[str, Any], key: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/commands/{command}", json=payload, headers={IDEMPOTENCY_KEY: key}
        )


IntakeFactory = Callable[..., Any]


@pytest.fixture
def master_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
async def intake(nats_server: NatsServer, master_key: bytes) -> AsyncIterator[RunningIntake]:
    async for running in _intake(nats_server, master_key, duplicate_window=120.0):
        yield running


@pytest.fixture
async def intake_short_window(
    nats_server: NatsServer, master_key: bytes
) -> AsyncIterator[RunningIntake]:
    """Intake whose stream forgets Nats-Msg-Id after one second."""
    async for running in _intake(nats_server, master_key, duplicate_window=1.0):
        yield running


async def _intake(
    server: NatsServer, master_key: bytes, *, duplicate_window: float
) -> AsyncIterator[RunningIntake]:
    settings = Settings(
        nats_urls=(server.url,),
        publish_timeout=1.0,
        stream=StreamSettings(duplicate_window=duplicate_window),
    )
    environ = {"CARELEDGER_MASTER_KEY": base64.b64encode(master_key).decode()}
    service = IntakeService(settings, environ=environ)
    async with AsyncTestClient(service.http_app()) as client:
        yield RunningIntake(client, service, server, master_key)
