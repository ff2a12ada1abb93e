"""Who may ask the ledger: every /v1 route needs an auditor's token, each auditor has its
own rate limit, and only CARELEDGER_INSECURE_DEV opens the registers to anyone."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.settings import Settings
from careledger.stack.nats_server import NatsServer
from careledger.stack.principals import AuditorGrant, new_token, write_auditors_file
from careledger.stack.secrets import ensure_checkpoint_key
from tests.support.nats import service_settings

SUBJECT = "0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f"
ROUTES = [
    ("GET", "/v1/registers/complaints"),
    ("GET", f"/v1/subjects/{SUBJECT}/timeline"),
    ("GET", f"/v1/subjects/{SUBJECT}/consents/marketing?at=now"),
    ("GET", f"/v1/subjects/{SUBJECT}/proof"),
    ("GET", f"/v1/subjects/{SUBJECT}/personal-data?purpose=anything+at+all"),
    ("GET", "/v1/ledger/position"),
    ("GET", "/v1/ledger/verify"),
    ("POST", "/v1/exports?format=csv"),
    ("GET", "/v1/returns/complaints?period=this-month&by=channel"),
    ("GET", "/v1/ledger/checkpoint"),
    ("POST", "/v1/ledger/checkpoint"),
    ("GET", "/v1/ledger/key"),
    ("GET", "/v1/ledger/proofs/inclusion?sequence=1"),
    ("GET", "/v1/ledger/proofs/consistency?from=1"),
    ("GET", "/v1/ledger/integrity"),
]


@pytest.fixture
def tokens(tmp_path: Path) -> dict[str, str]:
    return {"maria": new_token(), "jon": new_token()}


@asynccontextmanager
async def ledger(
    server: NatsServer, tmp_path: Path, **settings: Any
) -> AsyncIterator[AsyncTestClient[Any]]:
    base = Settings(
        **service_settings(server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        export_dir=tmp_path / "exports",
        checkpoint_key_file=tmp_path / "checkpoint.key",
    )
    ensure_checkpoint_key(base.checkpoint_key_file, "careledger.test/ledger")
    async with AsyncTestClient(LedgerService(replace(base, **settings), {}).http_app()) as client:
        yield client


def auditors(tmp_path: Path, tokens: dict[str, str]) -> Path:
    path = tmp_path / "auditors.toml"
    write_auditors_file(path, [AuditorGrant(name, token) for name, token in tokens.items()])
    return path


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_every_v1_route_refuses_a_caller_without_an_auditors_token(
    nats_server: NatsServer,
    tmp_path: Path,
    tokens: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate_log = logging.getLogger("careledger.runtime.gate")
    async with ledger(nats_server, tmp_path, auditors_file=auditors(tmp_path, tokens)) as client:
        gate_log.addHandler(caplog.handler)  # Litestar's start reconfigured the root logger
        for method, route in ROUTES:
            for headers in ({}, bearer("guessed-token"), {"Authorization": tokens["maria"]}):
                refused = await client.request(method, route, headers=headers)
                assert refused.status_code == 401, (route, refused.text)
                assert refused.headers["WWW-Authenticate"] == "Bearer"
                assert refused.json()["errors"][0]["rule"] == "bearer_token"
        position = await client.get("/v1/ledger/position", headers=bearer(tokens["jon"]))
        health = (await client.get("/healthz")).json()
        ready = await client.get("/readyz")
        gate_log.removeHandler(caplog.handler)

    assert position.status_code == 200
    assert health["refusals"] == {"401": 3 * len(ROUTES), "403": 0, "429": 0}
    assert ready.status_code in (200, 503)  # open, whether ready or not
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 * len(ROUTES)
    assert all("401 bearer_token" in line and "anonymous@" in line for line in lines)
    assert not any(tokens["maria"] in line for line in lines)


async def test_each_auditor_gets_429_with_retry_after_past_its_own_rate(
    nats_server: NatsServer, tmp_path: Path, tokens: dict[str, str]
) -> None:
    rate, file = 3, auditors(tmp_path, tokens)
    async with ledger(nats_server, tmp_path, auditors_file=file, rate_limit=rate) as client:
        # 2 * rate + 1 in well under a second: at least one one-second window overflows
        burst = [
            await client.get("/v1/ledger/position", headers=bearer(tokens["maria"]))
            for _ in range(2 * rate + 1)
        ]
        other = await client.get("/v1/ledger/position", headers=bearer(tokens["jon"]))

    statuses = [r.status_code for r in burst]
    assert set(statuses) == {200, 429}, statuses
    assert rate <= statuses.index(429) <= 2 * rate
    throttled = burst[statuses.index(429)]
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json()["errors"][0]["rule"] == "rate_limit"
    assert "from maria" in throttled.json()["errors"][0]["message"]
    assert other.status_code == 200


async def test_insecure_dev_without_a_file_opens_the_registers_but_not_personal_data(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger(nats_server, tmp_path, insecure_dev=True) as client:
        registers = await client.get("/v1/registers/complaints")
        personal = await client.get(ROUTES[4][1])
        health = (await client.get("/healthz")).json()

    assert registers.status_code == 200
    assert personal.status_code == 403
    assert personal.json()["errors"][0]["rule"] == "role_dpo"
    assert health["insecure_dev"] is True
