"""Envelope encryption of personal data: AES-256-GCM data keys wrapped by a master key.

Every sealed blob is ``version byte || 12-byte random nonce || ciphertext+tag``; the AAD
binds it to its subject (and record), so a blob moved elsewhere fails to open. Pure: no
file system and no environment (the master key is loaded in ``master_key``).
"""

import hashlib
import hmac
import os

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from careledger.contracts import PersonalData
from careledger.vault.errors import MasterKeyError, VaultKeyError

KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE = 12
_canonical = msgspec.json.Encoder()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_salt() -> bytes:
    return os.urandom(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
        raise VaultKeyError("not a sealed vault blob (unknown version or truncated)")
    nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultKeyError(
            "decryption failed: wrong key, or the blob was sealed for another subject/record"
        ) from None


def wrap(master_key: bytes, data_key: bytes, subject_id: str) -> bytes:
    return seal(_check(master_key), data_key, b"careledger/vault/key/v1\x00" + subject_id.encode())


def unwrap(master_key: bytes, wrapped: bytes, subject_id: str) -> bytes:
    aad = b"careledger/vault/key/v1\x00" + subject_id.encode()
    try:
        return open_(_check(master_key), wrapped, aad)
    except VaultKeyError as exc:
        raise VaultKeyError(
            f"cannot unwrap the data key of subject {subject_id}: the master key is not the one "
            f"it was wrapped with ({exc})"
        ) from None


def record_aad(subject_id: str, record_key: str) -> bytes:
    return b"careledger/vault/record/v1\x00" + subject_id.encode() + b"\x00" + record_key.encode()


def commitment(salt: bytes, data: PersonalData) -> str:
    """HMAC-SHA256 under the subject's salt over the canonical msgspec JSON of ``data``."""
    return hmac.new(salt, _canonical.encode(data), hashlib.sha256).hexdigest()


def _check(key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"a master key is {KEY_BYTES} bytes, got {len(key)}")
    return key
