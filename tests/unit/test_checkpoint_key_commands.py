"""The ledger's checkpoint signing key as the operator makes it: `careledger admin
checkpoint-key`, `python -m careledger.stack.secrets` (a deployment) and `make run`'s
launcher each write a new key file of mode 0600 once, keep an existing one, and print only
its verifier key, never the private key."""

import re
from pathlib import Path

import pytest

import careledger.stack.__main__ as launcher
from careledger.ledger.adapters.signing_key import load_signer
from careledger.ledger.domain.note import open_note, sign, verifier_from_text, verifier_of, vkey
from careledger.ledger.entrypoints.admin import main as admin
from careledger.stack.secrets import LOCAL_ORIGIN, ORIGIN_ENV
from careledger.stack.secrets import main as secrets_main

ORIGIN = "careledger.example.org/ledger"
VERIFIER_KEY = re.compile(r"^\s*(\S+\+[0-9a-f]{8}\+\S+)$", re.MULTILINE)


def printed_verifier(output: str) -> str:
    found = VERIFIER_KEY.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def assert_secret_kept(key_file: Path, output: str) -> None:
    """The file is the owner's alone and nothing of the private key was printed."""
    assert key_file.stat().st_mode & 0o777 == 0o600
    private = key_file.read_text().strip()
    assert private.startswith("PRIVATE+KEY+")
    assert "PRIVATE+KEY" not in output and private.split("+", 4)[4] not in output


def test_admin_checkpoint_key_writes_a_key_only_its_owner_reads_and_prints_its_verifier_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "keys" / "checkpoint.key"
    admin(["checkpoint-key", "--origin", ORIGIN, "--out", str(key_file)])
    output = capsys.readouterr().out

    assert_secret_kept(key_file, output)
    signer = load_signer(key_file)
    verifier = verifier_from_text(printed_verifier(output))
    assert (signer.name, vkey(verifier)) == (ORIGIN, vkey(verifier_of(signer)))
    assert open_note(sign("careledger.example.org/ledger\n0\n", signer), verifier)
    assert f"CARELEDGER_CHECKPOINT_KEY_FILE={key_file.resolve()}" in output


def test_admin_checkpoint_key_never_overwrites_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "checkpoint.key"
    admin(["checkpoint-key", "--origin", ORIGIN, "--out", str(key_file)])
    first = key_file.read_bytes()
    with pytest.raises(SystemExit) as refused:
        admin(["checkpoint-key", "--origin", "other.example.org/ledger", "--out", str(key_file)])
    assert "exists" in str(refused.value) and "docs/security.md" in str(refused.value)
    assert key_file.read_bytes() == first
    assert "PRIVATE+KEY" not in str(refused.value) + capsys.readouterr().out


def test_admin_checkpoint_key_refuses_a_name_a_signed_note_cannot_carry(tmp_path: Path) -> None:
    key_file = tmp_path / "checkpoint.key"
    with pytest.raises(SystemExit) as refused:
        admin(["checkpoint-key", "--origin", "two words", "--out", str(key_file)])
    assert "'two words'" in str(refused.value)
    assert not key_file.exists()


def test_the_secrets_command_writes_the_checkpoint_key_once_and_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets_main([str(tmp_path), "--origin", ORIGIN])
    first_run = capsys.readouterr().out
    key_file = tmp_path / "checkpoint.key"
    made = key_file.read_bytes()
    secrets_main([str(tmp_path), "--origin", "other.example.org/ledger"])
    second_run = capsys.readouterr().out

    assert_secret_kept(key_file, first_run + second_run)
    assert printed_verifier(first_run) == vkey(verifier_of(load_signer(key_file)))
    assert key_file.read_bytes() == made and "checkpoint.key" not in second_run
    assert load_signer(key_file).name == ORIGIN


def test_the_secrets_command_names_the_log_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ORIGIN_ENV, "care.example.net/audit")
    secrets_main([str(tmp_path)])
    assert load_signer(tmp_path / "checkpoint.key").name == "care.example.net/audit"


def test_make_run_makes_var_checkpoint_key_on_first_start_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launcher, "VAR", tmp_path / "var")
    monkeypatch.delenv(ORIGIN_ENV, raising=False)
    first = launcher._checkpoint_key()
    first_start = capsys.readouterr().out
    made = first.read_bytes()
    again = launcher._checkpoint_key()

    assert first == again == (tmp_path / "var" / "checkpoint.key").resolve()
    assert_secret_kept(first, first_start)
    assert "created a new checkpoint signing key" in first_start
    assert load_signer(first).name == LOCAL_ORIGIN == "careledger.local/ledger"
    assert again.read_bytes() == made and capsys.readouterr().out == ""
