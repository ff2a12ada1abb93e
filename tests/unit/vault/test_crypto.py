"""The vault's envelope encryption, without any server."""

import os

import pytest

from careledger.contracts import PersonalData
from careledger.vault import MasterKeyError, VaultKeyError, crypto

DATA = PersonalData(name="Zoë Quintanilla", email="zoe@example.org", text="router burnt out")


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


def test_a_master_key_of_the_wrong_length_cannot_wrap() -> None:
    with pytest.raises(MasterKeyError, match="32 bytes"):
        crypto.wrap(b"short", crypto.new_data_key(), "subject-a")
