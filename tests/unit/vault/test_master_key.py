"""Loading the master key from the environment or a 0600 file, and creating that file."""

import base64
import os
import stat
from pathlib import Path

import pytest

from careledger.vault import MasterKeyError, master_key


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_the_master_key_is_read_from_the_environment() -> None:
    key = os.urandom(32)
    assert master_key.master_key_from_env({"CARELEDGER_MASTER_KEY": b64(key)}) == key


def test_a_missing_master_key_names_both_variables_and_how_to_make_one() -> None:
    with pytest.raises(MasterKeyError) as caught:
        master_key.master_key_from_env({})
    message = str(caught.value)
    assert "CARELEDGER_MASTER_KEY " in message and "CARELEDGER_MASTER_KEY_FILE" in message
    assert "os.urandom(32)" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("not base64!", "not valid base64"), (b64(os.urandom(16)), "decodes to 16 bytes")],
)
def test_a_malformed_master_key_is_refused_with_a_clear_message(value: str, expected: str) -> None:
    with pytest.raises(MasterKeyError, match=expected) as caught:
        master_key.master_key_from_env({"CARELEDGER_MASTER_KEY": value})
    assert value not in str(caught.value)


def test_setting_both_the_key_and_the_key_file_is_refused() -> None:
    environ = {"CARELEDGER_MASTER_KEY": b64(os.urandom(32)), "CARELEDGER_MASTER_KEY_FILE": "/x"}
    with pytest.raises(MasterKeyError, match="only one"):
        master_key.master_key_from_env(environ)


def test_a_master_key_file_is_created_with_mode_0600_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "nested" / "master.key"
    assert master_key.ensure_master_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]
    key = master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})
    assert len(key) == 32


def test_an_existing_master_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    master_key.ensure_master_key_file(path)
    before = path.read_bytes()
    assert master_key.ensure_master_key_file(path) is False
    assert path.read_bytes() == before


def test_a_master_key_file_readable_by_others_is_refused_naming_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    master_key.ensure_master_key_file(path)
    path.chmod(0o644)
    with pytest.raises(MasterKeyError) as caught:
        master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})
    assert f"{path} has mode 0644, wider than 0600" in str(caught.value)
    assert f"Fix: chmod 600 {path}" in str(caught.value)


def test_a_read_only_master_key_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    master_key.ensure_master_key_file(path)
    path.chmod(0o400)
    assert len(master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})) == 32


def test_a_missing_or_malformed_master_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.key"
    with pytest.raises(MasterKeyError, match=f"{missing}: cannot read it \\(No such file"):
        master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(missing)})
    short = tmp_path / "short.key"
    short.write_text(b64(os.urandom(31)))
    short.chmod(0o600)
    with pytest.raises(MasterKeyError, match=f"{short} decodes to 31 bytes"):
        master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(short)})


def test_a_master_key_file_that_is_a_directory_is_refused_clearly(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o600)
    with pytest.raises(MasterKeyError, match="cannot read it"):
        master_key.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(directory)})
