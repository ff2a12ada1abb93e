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


def get_json(base: str, path: str, **params: str) -> Any:
    query = "?" + urllib.parse.urlencode(params) if params else ""
    with urllib.request.urlopen(f"{base}{path}{query}", timeout=10) as response:
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
def running_stack(server: NatsServer, tmp: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(intake URL, ledger URL, environment) of both services, stopped by PID afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "CARELEDGER_MASTER_KEY_FILE"}
    env["CARELEDGER_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    env["CARELEDGER_EXPORT_DIR"] = str(tmp / "exports")
    nats = ["--nats", server.url]
    db = ["--db", str(tmp / "ledger.duckdb")]
    with (
        _service("careledger.intake.entrypoints.cli", nats, env, tmp / "intake.log") as intake,
        _service(
            "careledger.ledger.entrypoints.serve", nats + db, env, tmp / "ledger.log"
        ) as ledger,
    ):
        yield intake, ledger, env
