"""Intake and the ledger as real processes on free ports, as `make run` starts them."""

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from careledger.stack.nats_server import NatsServer, free_port, signal_and_wait
from tests.support.nats import service_env
from tests.support.principals import write_principals


def get_json(base: str, path: str, token: str | None = None, **params: str) -> Any:
    """GET ``path`` with ``params``, as the bearer of ``token`` if given."""
    query = "?" + urllib.parse.urlencode(params) if params else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{base}{path}{query}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@contextmanager
def _service(module: str, args: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    """A service as a subprocess on a free port; its URL once /healthz answers."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"{module} exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{module} never answered:\n{log.read_text()}"
            try:
                get_json(url, "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        signal_and_wait(process, signal.SIGTERM)


@contextmanager
def running_stack(
    server: NatsServer, tmp: Path, **settings: str
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(intake URL, ledger URL, environment) of both services, stopped by PID afterwards.
    The environment holds the clients and auditors files and the tokens the CLI and the demo
    send (``CARELEDGER_TOKEN``, ``CARELEDGER_INTAKE_TOKEN``); the client's ``client_id`` is
    the demo's, ``crm``. ``settings``: more environment variables for both services."""
    env = {k: v for k, v in os.environ.items() if k != "CARELEDGER_MASTER_KEY_FILE"}
    env |= write_principals(tmp / "principals", client_id="crm").env()
    env["CARELEDGER_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    env["CARELEDGER_EXPORT_DIR"] = str(tmp / "exports")
    env |= settings
    nats = ["--nats", server.url]
    db = ["--db", str(tmp / "ledger.duckdb")]
    with (
        _service(
            "careledger.intake.entrypoints.cli",
            nats,
            env | service_env(server, "intake"),
            tmp / "intake.log",
        ) as intake,
        _service(
            "careledger.ledger.entrypoints.serve",
            nats + db,
            env | service_env(server, "ledger"),
            tmp / "ledger.log",
        ) as ledger,
    ):
        yield intake, ledger, env
