"""``make run``: an embedded nats-server plus the CareLedger services, stopped with Ctrl-C.

If NATS_URL is set, that server is used and none is started. If port 4222 (or 8080 for
intake) is taken, a free port is picked and printed. Data lives under ``var/``.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from careledger.stack.nats_server import NatsServer, free_port, port_is_free, signal_and_wait
from careledger.vault import ensure_master_key_file

VAR = Path(os.environ.get("CARELEDGER_VAR", "var"))


def _port(preferred: int, what: str) -> int:
    if port_is_free(preferred):
        return preferred
    port = free_port()
    print(f"port {preferred} is taken: {what} uses {port}")
    return port


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"service exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} after {timeout}s")


def _wait_for_stop_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


def _start(module: str, port: int, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        env=env,
        start_new_session=True,  # Ctrl-C reaches the launcher, which stops children in order
    )


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    key_file = VAR / "master.key"
    if ensure_master_key_file(key_file):
        print(f"created a new vault master key in {key_file} (mode 0600): back it up")
    env = dict(os.environ, CARELEDGER_MASTER_KEY_FILE=str(key_file.resolve()))
    env.pop("CARELEDGER_MASTER_KEY", None)
    env.setdefault("CARELEDGER_EXPORT_DIR", str(VAR / "exports"))

    server: NatsServer | None = None
    nats_url = os.environ.get("NATS_URL")
    if not nats_url:
        port = _port(4222, "the embedded nats-server")
        server = NatsServer(VAR / "nats", port=port).start()
        nats_url = server.url
    env["NATS_URL"] = nats_url

    started: list[subprocess.Popen[bytes]] = []
    try:
        intake_port = _port(8080, "intake")
        started.append(_start("careledger.intake.entrypoints.cli", intake_port, env))
        intake = f"http://127.0.0.1:{intake_port}"
        _wait_http(f"{intake}/healthz", started[0])  # intake creates the streams
        ledger_port = _port(8081, "the ledger")
        db = str(VAR / "ledger.duckdb")
        started.append(_start("careledger.ledger.entrypoints.serve", ledger_port, env, "--db", db))
        ledger = f"http://127.0.0.1:{ledger_port}"
        _wait_http(f"{ledger}/healthz", started[1])
        print(
            _banner(nats_url, server, (intake, started[0].pid), (ledger, started[1].pid)),
            flush=True,
        )
        _wait_for_stop_signal()
    finally:
        print("stopping…")
        for process in reversed(started):
            signal_and_wait(process, signal.SIGTERM, 15)
        if server is not None:
            server.stop()


def _banner(
    nats_url: str, server: NatsServer | None, intake: tuple[str, int], ledger: tuple[str, int]
) -> str:
    embedded = f" (embedded, pid {server.pid}, data in {server.store_dir})" if server else ""
    (intake_url, intake_pid), (ledger_url, ledger_pid) = intake, ledger
    return f"""
CareLedger is running. Ctrl-C stops it.
  NATS          {nats_url}{embedded}
  intake HTTP   {intake_url}/v1/commands/<command> (pid {intake_pid})
  OpenAPI       {intake_url}/schema/openapi.json
  ledger HTTP   {ledger_url}/v1/registers/complaints (pid {ledger_pid})
  position      {ledger_url}/v1/ledger/position
A whole scenario, then where to look:
  .venv/bin/careledger demo --intake {intake_url} --url {ledger_url}
One command by hand:
  curl -s -X POST {intake_url}/v1/commands/open-contact \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: try-$(date +%s%N)" \\
    -d '{{"subject_id":"0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f","occurred_at":"{_now()}",
         "actor":{{"kind":"agent","id":"agent-7"}},"client_id":"crm",
         "channel":"phone","direction":"inbound"}}'
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    main()
