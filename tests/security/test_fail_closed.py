"""The services as an operator starts them refuse to run with nobody allowed to call them,
and say which variable or file to fix."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from careledger.stack.nats_server import free_port
from tests.support.principals import write_principals

SERVICES = {
    "careledger.intake.entrypoints.cli": ("careledger-intake", "CARELEDGER_CLIENTS_FILE"),
    "careledger.ledger.entrypoints.serve": ("careledger-ledger", "CARELEDGER_AUDITORS_FILE"),
}


def start(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bare_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_")}
    env["CARELEDGER_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    return env


@pytest.mark.parametrize("module", sorted(SERVICES))
def test_a_service_without_a_principals_file_exits_naming_the_variable(module: str) -> None:
    prog, variable = SERVICES[module]
    done = start(module, bare_env())
    assert done.returncode == 1
    assert f"{prog}: {variable} is not set" in done.stderr
    assert "CARELEDGER_INSECURE_DEV=1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("module", sorted(SERVICES))
def test_a_service_whose_principals_file_lists_nobody_exits_naming_the_file(
    module: str, tmp_path: Path
) -> None:
    prog, variable = SERVICES[module]
    empty = tmp_path / "nobody.toml"
    empty.write_text("# nobody yet\n")
    done = start(module, bare_env() | {variable: str(empty)})
    assert done.returncode == 1
    assert f"{prog}: {variable}={empty} lists nobody" in done.stderr


def test_the_ledger_without_a_checkpoint_signing_key_exits_naming_the_variable(
    tmp_path: Path,
) -> None:
    principals = write_principals(tmp_path)
    env = bare_env() | {"CARELEDGER_AUDITORS_FILE": str(principals.auditors_file)}
    done = start("careledger.ledger.entrypoints.serve", env)
    assert done.returncode == 1
    assert "careledger-ledger: CARELEDGER_CHECKPOINT_KEY_FILE is not set" in done.stderr
    assert "careledger admin checkpoint-key" in done.stderr and "Traceback" not in done.stderr


def test_the_ledger_refuses_a_signing_key_others_may_read(tmp_path: Path) -> None:
    principals = write_principals(tmp_path)
    principals.checkpoint_key_file.chmod(0o644)
    done = start("careledger.ledger.entrypoints.serve", bare_env() | principals.service_env())
    assert done.returncode == 1
    assert "chmod 600" in done.stderr and "PRIVATE+KEY" not in done.stderr
