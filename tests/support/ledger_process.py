"""The ledger as a real process (so tests can SIGKILL it), managed by PID."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from careledger.runtime.nats import NatsAccess
from careledger.stack.nats_server import free_port, signal_and_wait
from tests.support.nats import access_env
from tests.support.principals import Principals, write_principals


@dataclass
class LedgerProcess:
    nats: NatsAccess  # the ledger user's: ``server.access("ledger")``
    db_path: Path
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    principals: Principals | None = None  # default: fresh files and tokens beside the db

    def __post_init__(self) -> None:
        if self.principals is None:
            where = self.db_path.with_name(f"{self.db_path.stem}-principals")
            self.principals = write_principals(where)

    def environment(self) -> dict[str, str]:
        """The tests' environment, the ledger's auditors file and its NATS credentials."""
        assert self.principals is not None
        return dict(os.environ) | self.principals.service_env() | access_env(self.nats)

    @property
    def nats_url(self) -> str:
        return self.nats.where

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "LedgerProcess":
        log = (self.log_path or self.db_path.with_suffix(".log")).open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "careledger.ledger.entrypoints.serve",
                    "--nats",
                    self.nats_url,
                    "--db",
                    str(self.db_path),
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.environment(),
            )
        return self.wait_until_healthy(timeout)

    def wait_until_healthy(
        self, timeout: float, exited: Callable[[], str] = str
    ) -> "LedgerProcess":
        """Until /healthz answers; RuntimeError (with what ``exited()`` says, e.g. the log's
        tail) if the process ends first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ledger exited with {self.process.returncode}{exited()}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("ledger did not answer /healthz")

    def get(self, path: str) -> Any:
        """GET as the auditor."""
        assert self.principals is not None
        request = urllib.request.Request(self.url + path, headers=self.principals.auditor_headers())
        with urllib.request.urlopen(request, timeout=5) as response:
            return msgspec.json.decode(response.read())

    def wait_caught_up(self, sequence: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        position: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                position = self.get("/v1/ledger/position")
                if position["ledger_sequence"] >= sequence:
                    return position
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"ledger stuck at {position} waiting for {sequence}")

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None:
            signal_and_wait(self.process, sig, 20)
