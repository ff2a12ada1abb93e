"""``make run``: an embedded nats-server plus the CareLedger services, stopped with Ctrl-C.

The embedded server has TLS and NKey users (``careledger.stack.trust``); its CA, certificate
and the users' seeds are made under ``var/`` on first start (mode 0600), the admin provisions
the streams, and each service connects as its own user. If NATS_URL is set, that server is
used and none is started: ``CARELEDGER_NATS_SECRETS`` then names a directory laid out as
``python -m careledger.stack.secrets`` writes it (tls/ca.pem, nkeys/<user>.nk). If port 4222
(or 8080 for intake) is taken, a free port is picked and printed. Data lives under ``var/``,
and so do the vault master key and the ledger's checkpoint signing key (``var/checkpoint.key``,
named ``CARELEDGER_LOG_ORIGIN`` or ``careledger.local/ledger``), made on first start, mode 0600.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from careledger.ledger.adapters.signing_key import SigningKeyError
from careledger.stack.nats_server import NatsServer, free_port, port_is_free, signal_and_wait
from careledger.stack.principals import DevPrincipals, ensure_dev_principals
from careledger.stack.secrets import LOCAL_ORIGIN, ORIGIN_ENV, ensure_checkpoint_key
from careledger.vault import ensure_master_key_file

VAR = Path(os.environ.get("CARELEDGER_VAR", "var"))
CHECKPOINT_KEY_FILE = "CARELEDGER_CHECKPOINT_KEY_FILE"


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


def _provision(env: dict[str, str], secrets: Path) -> None:
    """The admin's step: the streams and the vault bucket, before any service starts."""
    admin = dict(env, CARELEDGER_NATS_NKEY_FILE=str((secrets / "nkeys" / "admin.nk").resolve()))
    done = subprocess.run(
        [sys.executable, "-m", "careledger.ledger.entrypoints.cli", "admin", "provision"],
        env=admin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip() or "careledger admin provision failed")


def _as(user: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` for a service connecting as ``user`` (its own seed, never another's)."""
    secrets = Path(os.environ.get("CARELEDGER_NATS_SECRETS") or VAR)
    return dict(env, CARELEDGER_NATS_NKEY_FILE=str((secrets / "nkeys" / f"{user}.nk").resolve()))


def _checkpoint_key() -> Path:
    """``var/checkpoint.key``, the ledger's signing key, made on first start (like the master
    key: an existing one is kept); only its verifier key is printed."""
    key_file = VAR / "checkpoint.key"
    origin = os.environ.get(ORIGIN_ENV) or LOCAL_ORIGIN
    try:
        verifier = ensure_checkpoint_key(key_file, origin)
    except SigningKeyError as refused:
        raise SystemExit(f"{refused} ({ORIGIN_ENV} names the log)") from None
    if verifier:
        print(
            f"created a new checkpoint signing key for {origin} in {key_file} (mode 0600): "
            f"back it up; its verifier key:\n  {verifier}"
        )
    return key_file.resolve()


def _start(module: str, port: int, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    user = "intake" if ".intake." in module else "ledger"
    return subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        env=_as(user, env),
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
    principals = ensure_dev_principals(VAR)  # who may call the HTTP APIs, with their tokens
    if principals.created:
        made = f"{principals.clients_file} and {principals.auditors_file}"
        print(f"created {made}, with new tokens in {VAR / 'tokens'} (mode 0600)")
    env |= principals.service_env()
    env.pop(CHECKPOINT_KEY_FILE, None)  # only the ledger holds the signing key: see _start
    signing_key = _checkpoint_key()

    server: NatsServer | None = None
    nats_url = os.environ.get("NATS_URL")
    secrets = Path(os.environ.get("CARELEDGER_NATS_SECRETS") or VAR)
    if not nats_url:
        port = _port(4222, "the embedded nats-server")
        server = NatsServer(VAR / "nats", port=port, secrets_dir=secrets).start()
        nats_url = server.url
    env["NATS_URL"] = nats_url
    ca_file = secrets / "tls" / "ca.pem"
    if ca_file.exists():
        env["CARELEDGER_NATS_CA_FILE"] = str(ca_file.resolve())
    _provision(env, secrets)

    started: list[subprocess.Popen[bytes]] = []
    try:
        intake_port = _port(8080, "intake")
        started.append(_start("careledger.intake.entrypoints.cli", intake_port, env))
        intake = f"http://127.0.0.1:{intake_port}"
        _wait_http(f"{intake}/healthz", started[0])  # intake creates the streams
        ledger_port = _port(8081, "the ledger")
        db = str(VAR / "ledger.duckdb")
        ledger_env = env | {CHECKPOINT_KEY_FILE: str(signing_key)}
        started.append(
            _start("careledger.ledger.entrypoints.serve", ledger_port, ledger_env, "--db", db)
        )
        ledger = f"http://127.0.0.1:{ledger_port}"
        _wait_http(f"{ledger}/healthz", started[1])
        print(
            _banner(nats_url, server, (intake, started[0].pid), (ledger, started[1].pid))
            + _tokens(principals, intake),
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
    embedded = (
        f" (embedded, pid {server.pid}, data in {server.store_dir}; TLS with the CA in "
        f"{server.ca_file}, NKey users only: seeds in {server.seed('admin').parent})"
        if server
        else ""
    )
    (intake_url, intake_pid), (ledger_url, ledger_pid) = intake, ledger
    return f"""
CareLedger is running. Ctrl-C stops it.
  NATS          {nats_url}{embedded}
  intake HTTP   {intake_url}/v1/commands/<command> (pid {intake_pid})
  OpenAPI       {intake_url}/schema/openapi.json
  ledger HTTP   {ledger_url}/v1/registers/complaints (pid {ledger_pid})
  position      {ledger_url}/v1/ledger/position
  checkpoint    {ledger_url}/v1/ledger/checkpoint (signed; verifier key: {ledger_url}/v1/ledger/key)
A whole scenario, then where to look:
  .venv/bin/careledger demo --intake {intake_url} --url {ledger_url}
"""


def _tokens(principals: DevPrincipals, intake_url: str) -> str:
    """The banner's last lines: the tokens, and one command by hand with the client's."""
    client, auditor = principals.client_token, principals.auditor_token
    missing = f"(token file missing: delete {principals.clients_file} to make new tokens)"
    by_hand = client or "$(cat var/tokens/dev-channel.token)"
    return f"""Tokens (the files under {principals.clients_file.parent} hold only their SHA-256):
  intake  dev-channel (client_id crm, every command)  {client or missing}
  ledger  dev-auditor (roles auditor, dpo)            {auditor or missing}
One command by hand:
  curl -s -X POST {intake_url}/v1/commands/open-contact \\
    -H "Authorization: Bearer {by_hand}" \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: try-$(date +%s%N)" \\
    -d '{{"subject_id":"0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f","occurred_at":"{_now()}",
         "actor":{{"kind":"agent","id":"agent-7"}},"client_id":"crm",
         "channel":"phone","direction":"inbound"}}'
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    main()
