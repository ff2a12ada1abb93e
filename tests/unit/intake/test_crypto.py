"""The vault's envelope encryption and master-key loading, without any server."""

import base64
import os
import stat
from pathlib import Path

import pytest

from careledger.contracts import PersonalData
from careledger.intake.adapters import crypto
from careledger.intake.adapters.crypto import MasterKeyError, VaultKeyError

DATA = PersonalData(name="Zoë Quintanilla", email="zoe@example.org", text="router burnt out")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_a_wrapped_data_key_unwraps_with_the_same_master_key_and_subject() -> None:
    master, data_key = os.urandom(32), crypto.new_data_key()
    wrapped = crypto.wrap(master, data_key, "subject-a")
    assert data_key not in wrapped
    assert crypto.unwrap(master, wrapped, "subject-a") == data_key


def test_unwrapping_with_another_master_key_raises_vault_key_error() -> None:
    wrapped = crypto.wrap(os.urandom(32), crypto.new_data_key(), "subject-a")
    with pytest.raises(VaultKeyError, match="master key"):
        crypto.unwrap(os.urandom(32), wrapped, "subject-a")


def test_a_wrapped_key_moved_to_another_subject_does_not_unwrap() -> None:
    master = os.urandom(32)
    wrapped = crypto.wrap(master, crypto.new_data_key(), "subject-a")
    with pytest.raises(VaultKeyError):
        crypto.unwrap(master, wrapped, "subject-b")


def test_a_sealed_record_opens_only_with_its_own_aad() -> None:
    key = crypto.new_data_key()
    sealed = crypto.seal(key, b"secret text", crypto.record_aad("s1", "r1"))
    assert b"secret" not in sealed
    assert crypto.open_(key, sealed, crypto.record_aad("s1", "r1")) == b"secret text"
    with pytest.raises(VaultKeyError):
        crypto.open_(key, sealed, crypto.record_aad("s1", "r2"))


def test_a_tampered_or_truncated_blob_raises_instead_of_returning_garbage() -> None:
    key = crypto.new_data_key()
    sealed = bytearray(crypto.seal(key, b"secret", b"aad"))
    sealed[-1] ^= 1
    with pytest.raises(VaultKeyError):
        crypto.open_(key, bytes(sealed), b"aad")
    with pytest.raises(VaultKeyError, match="truncated"):
        crypto.open_(key, b"\x01abc", b"aad")


def test_sealing_twice_gives_different_bytes() -> None:
    key = crypto.new_data_key()
    assert crypto.seal(key, b"same", b"aad") != crypto.seal(key, b"same", b"aad")


def test_commitment_is_deterministic_for_the_same_salt_and_data() -> None:
    salt = crypto.new_salt()
    first = crypto.commitment(salt, DATA)
    same = PersonalData(name=DATA.name, email=DATA.email, text=DATA.text)
    assert first == crypto.commitment(salt, same)
    assert len(first) == 64 and first == first.lower()


def test_commitment_differs_across_salts_and_across_data() -> None:
    salt = crypto.new_salt()
    assert crypto.commitment(salt, DATA) != crypto.commitment(crypto.new_salt(), DATA)
    assert crypto.commitment(salt, DATA) != crypto.commitment(salt, PersonalData(name="Zoë"))


def test_the_master_key_is_read_from_the_environment() -> None:
    key = os.urandom(32)
    assert crypto.master_key_from_env({"CARELEDGER_MASTER_KEY": b64(key)}) == key


def test_a_missing_master_key_names_both_variables_and_how_to_make_one() -> None:
    with pytest.raises(MasterKeyError) as caught:
        crypto.master_key_from_env({})
    message = str(caught.value)
    assert "CARELEDGER_MASTER_KEY " in message and "CARELEDGER_MASTER_KEY_FILE" in message
    assert "os.urandom(32)" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("not base64!", "not valid base64"), (b64(os.urandom(16)), "decodes to 16 bytes")],
)
def test_a_malformed_master_key_is_refused_with_a_clear_message(value: str, expected: str) -> None:
    with pytest.raises(MasterKeyError, match=expected) as caught:
        crypto.master_key_from_env({"CARELEDGER_MASTER_KEY": value})
    assert value not in str(caught.value)


def test_setting_both_the_key_and_the_key_file_is_refused() -> None:
    environ = {"CARELEDGER_MASTER_KEY": b64(os.urandom(32)), "CARELEDGER_MASTER_KEY_FILE": "/x"}
    with pytest.raises(MasterKeyError, match="only one"):
        crypto.master_key_from_env(environ)


def test_a_master_key_file_is_created_with_mode_0600_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "nested" / "master.key"
    assert crypto.ensure_master_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]
    key = crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})
    assert len(key) == 32


def test_an_existing_master_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    crypto.ensure_master_key_file(path)
    before = path.read_bytes()
    assert crypto.ensure_master_key_file(path) is False
    assert path.read_bytes() == before


def test_a_master_key_file_readable_by_others_is_refused_naming_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    crypto.ensure_master_key_file(path)
    path.chmod(0o644)
    with pytest.raises(MasterKeyError) as caught:
        crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})
    assert f"{path} has mode 0644, wider than 0600" in str(caught.value)
    assert f"Fix: chmod 600 {path}" in str(caught.value)


def test_a_read_only_master_key_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    crypto.ensure_master_key_file(path)
    path.chmod(0o400)
    assert len(crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(path)})) == 32


def test_a_missing_or_malformed_master_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.key"
    with pytest.raises(MasterKeyError, match=f"{missing}: cannot read it \\(No such file"):
        crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(missing)})
    short = tmp_path / "short.key"
    short.write_text(b64(os.urandom(31)))
    short.chmod(0o600)
    with pytest.raises(MasterKeyError, match=f"{short} decodes to 31 bytes"):
        crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(short)})


def test_a_master_key_of_the_wrong_length_cannot_wrap() -> None:
    with pytest.raises(MasterKeyError, match="32 bytes"):
        crypto.wrap(b"short", crypto.new_data_key(), "subject-a")


def test_a_master_key_file_that_is_a_directory_is_refused_clearly(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o600)
    with pytest.raises(MasterKeyError, match="cannot read it"):
        crypto.master_key_from_env({"CARELEDGER_MASTER_KEY_FILE": str(directory)})
