"""`make run`'s launcher, as a newcomer runs it: starts, answers, stops everything on Ctrl-C."""

import asyncio
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import nats

README = Path(__file__).parents[2] / "README.md"


def _curl_body(text: str) -> dict[str, object]:
    """The JSON a curl example sends (-d '...'), parsed as the shell would pass it."""
    match = re.search(r"-d '(\{.*?\})'", text, re.DOTALL)
    assert match, "the curl example is gone"
    body: dict[str, object] = json.loads(match.group(1))
    return body


def _wait_for_banner(process: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline, seen = time.monotonic() + timeout, []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if line.rstrip().endswith("}'"):  # the end of the curl example, the banner's last line
            return "".join(seen)
    raise AssertionError("launcher never printed its banner:\n" + "".join(seen))


def _wait_for_ledger(url: str, sequence: int, auditor: dict[str, str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        position = httpx.get(f"{url}/v1/ledger/position", headers=auditor, timeout=5).json()
        if position["ledger_sequence"] >= sequence:
            return
        time.sleep(0.2)
    raise AssertionError(f"the ledger never reached sequence {sequence}")


def _tokens(banner: str) -> tuple[str, str]:
    """The client's and the auditor's token, as the banner prints them."""
    client = re.search(r'-H "Authorization: Bearer (\S+)"', banner)
    auditor = re.search(r"dev-auditor \(roles auditor, dpo\)\s+(\S+)", banner)
    assert client and auditor, banner
    return client[1], auditor[1]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_stack_starts_accepts_the_readme_example_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "CARELEDGER_"))}
    env["CARELEDGER_VAR"] = str(tmp_path / "var")
    with subprocess.Popen(
        [sys.executable, "-m", "careledger.stack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        banner = _run_the_readme_example(process, tmp_path)
    assert process.returncode == 0
    for pid in re.findall(r"pid (\d+)", banner):
        assert _gone(int(pid)), f"process {pid} outlived the launcher"


async def _anonymous_nats(url: str) -> str:
    """What the embedded server says to a client without a key (over TLS it does not verify,
    as an attacker's would); the connection must be refused."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        nc = await nats.connect(url, tls=context, connect_timeout=2, allow_reconnect=False)
    except Exception as refused:
        return str(refused)
    await nc.close()
    raise AssertionError(f"an anonymous client connected to {url}")


def _environ(pid: str) -> set[str]:
    """The names of the environment variables process ``pid`` was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return {entry.split(b"=", 1)[0].decode() for entry in raw.split(b"\0") if entry}


def _only_the_ledger_holds_the_signing_key(banner: str, key_file: Path) -> None:
    """Made on first start (its verifier key printed, never the key), and handed to the
    ledger's process alone."""
    assert "created a new checkpoint signing key for careledger.local/ledger" in banner
    assert "careledger.local/ledger+" in banner and "PRIVATE+KEY" not in banner
    assert key_file.read_text().split("+", 4)[4].strip() not in banner
    intake = re.search(r"intake HTTP .*\(pid (\d+)\)", banner)
    ledger = re.search(r"ledger HTTP .*\(pid (\d+)\)", banner)
    assert intake and ledger, banner
    assert "CARELEDGER_CHECKPOINT_KEY_FILE" in _environ(ledger[1])
    assert "CARELEDGER_CHECKPOINT_KEY_FILE" not in _environ(intake[1])


def _run_the_readme_example(process: subprocess.Popen[str], tmp_path: Path) -> str:
    try:
        banner = _wait_for_banner(process)
        intake = re.search(r"intake HTTP\s+(http://\S+?)/v1", banner)
        ledger = re.search(r"ledger HTTP\s+(http://\S+?)/v1", banner)
        assert intake and ledger and len(re.findall(r"pid (\d+)", banner)) == 3, banner
        assert "created a new vault master key" in banner
        var = tmp_path / "var"
        nats_url = re.search(r"NATS\s+(tls://\S+)", banner)
        assert nats_url, banner
        assert "authorization" in asyncio.run(_anonymous_nats(nats_url.group(1))).lower()
        secrets = ("tls/server.key", "tls/ca.key", "nkeys/admin.nk", "nkeys/intake.nk")
        for secret in (
            *secrets,
            "master.key",
            "checkpoint.key",
            "clients.toml",
            "auditors.toml",
            "tokens/dev-channel.token",
        ):
            assert (var / secret).stat().st_mode & 0o777 == 0o600, secret
        assert (var / "tokens").stat().st_mode & 0o777 == 0o700
        _only_the_ledger_holds_the_signing_key(banner, var / "checkpoint.key")
        client_token, auditor_token = _tokens(banner)
        assert client_token not in (var / "clients.toml").read_text()  # only its hash
        client = {"Authorization": f"Bearer {client_token}"}
        auditor = {"Authorization": f"Bearer {auditor_token}"}

        commands = f"{intake.group(1)}/v1/commands/open-contact"
        registers = f"{ledger.group(1)}/v1/registers/contacts"
        body, key = _curl_body(README.read_text()), {"Idempotency-Key": f"anon-{uuid.uuid4()}"}
        anonymous = (httpx.post(commands, json=body, headers=key), httpx.get(registers))
        assert [r.status_code for r in anonymous] == [401, 401]
        assert all(r.headers["WWW-Authenticate"] == "Bearer" for r in anonymous)

        for example in (README.read_text(), banner):
            response = httpx.post(
                commands,
                json=_curl_body(example),
                headers={"Idempotency-Key": f"example-{uuid.uuid4()}"} | client,
                timeout=10,
            )
            assert response.status_code == 201, response.text
            assert response.json()["type"] == "ContactOpened"
        _wait_for_ledger(ledger.group(1), sequence=2, auditor=auditor)
        contacts = httpx.get(registers, headers=auditor, timeout=10).json()
        assert contacts["total"] == 2
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    return banner
