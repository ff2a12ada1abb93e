"""The master key: read from the environment or a 0600 file, and created for ``make run``.

The only part of the vault's cryptography that touches the file system or the environment.
"""

import base64
import binascii
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from careledger.vault.crypto import KEY_BYTES
from careledger.vault.errors import MasterKeyError

__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "MasterKeyError",
    "decode_master_key",
    "ensure_master_key_file",
    "master_key_from_env",
]

ENV_KEY = "CARELEDGER_MASTER_KEY"
ENV_KEY_FILE = "CARELEDGER_MASTER_KEY_FILE"
_HOW_TO_MAKE = "python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'"


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
