"""Envelope encryption of personal data: AES-256-GCM data keys wrapped by a master key.

Every sealed blob is ``version byte || 12-byte random nonce || ciphertext+tag``; the AAD
binds it to its subject (and record), so a blob moved elsewhere fails to open. Only the
master-key loaders at the bottom touch the file system.
"""

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from careledger.contracts import PersonalData

KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE = 12
ENV_KEY = "CARELEDGER_MASTER_KEY"
ENV_KEY_FILE = "CARELEDGER_MASTER_KEY_FILE"
_canonical = msgspec.json.Encoder()
_HOW_TO_MAKE = "python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'"


class VaultKeyError(Exception):
    """A blob did not open: wrong master key, wrong data key, or not sealed for this place."""


class MasterKeyError(ValueError):
    """The master key is missing or malformed; the message says what to fix."""


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


def decode_master_key(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(
            f"{origin} is not valid base64; expected the base64 of {KEY_BYTES} random bytes, "
            f"e.g. from: {_HOW_TO_MAKE}"
        ) from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{origin} decodes to {len(key)} bytes; a master key is {KEY_BYTES} bytes "
            f"(base64, 44 characters), e.g. from: {_HOW_TO_MAKE}"
        )
    return key


def master_key_from_env(environ: Mapping[str, str]) -> bytes:
    """The master key from ``CARELEDGER_MASTER_KEY`` or the file ``CARELEDGER_MASTER_KEY_FILE``."""
    inline, path = environ.get(ENV_KEY, "").strip(), environ.get(ENV_KEY_FILE, "").strip()
    if inline and path:
        raise MasterKeyError(f"both {ENV_KEY} and {ENV_KEY_FILE} are set; set only one")
    if inline:
        return decode_master_key(inline, ENV_KEY)
    if not path:
        raise MasterKeyError(
            f"no master key: set {ENV_KEY} to the base64 of {KEY_BYTES} random bytes, or "
            f"{ENV_KEY_FILE} to a file (mode 0600) holding it; make one with: {_HOW_TO_MAKE}"
        )
    file = Path(path)
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & ~0o600:
            raise MasterKeyError(
                f"{ENV_KEY_FILE}={file} has mode {mode:04o}, wider than 0600: others could read "
                f"the master key. Fix: chmod 600 {file}"
            )
        text = file.read_text()
    except OSError as exc:
        raise MasterKeyError(f"{ENV_KEY_FILE}={file}: cannot read it ({exc.strerror})") from None
    return decode_master_key(text, f"{ENV_KEY_FILE}={file}")


def ensure_master_key_file(path: str | os.PathLike[str]) -> bool:
    """Create a new random key file (0600) unless one exists; True when it created one."""
    target = Path(path)
    if target.exists():
        return False
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as file:
            file.write(base64.b64encode(os.urandom(KEY_BYTES)) + b"\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, target)  # unlike rename, never replaces a key created meanwhile
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return True
