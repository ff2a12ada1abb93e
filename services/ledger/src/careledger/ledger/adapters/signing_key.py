"""The ledger's signing key file: one line, ``PRIVATE+KEY+<name>+<key id>+<key>`` (the signer
key format of Go's note.NewSigner), mode 0600, made once and never overwritten.

Verifiers are given the key's verifier key text once (``create_key_file`` returns it), so a
new key is a decision, not an accident: nothing here replaces an existing file. The key
text never appears in an error or a log line.
"""

import os
import stat
from pathlib import Path

from careledger.ledger.domain.note import NoteError, Signer, generate_signer, signer_from_text

MAX_BYTES = 4096  # a signer key is about 100 bytes
_FORMAT = "one line PRIVATE+KEY+<name>+<key id>+<key>, as create_key_file writes it"


class SigningKeyError(Exception):
    """The signing key file cannot be used or made; the message names it and what to do."""


def load_signer(path: Path) -> Signer:
    """The signer in ``path``, a regular file of mode 0600 or stricter."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block us
    except FileNotFoundError:
        raise SigningKeyError(
            f"{path}: no signing key there; make one with `careledger admin checkpoint-key "
            f"--origin <log origin> --out {path}` (and publish the verifier key it prints), or "
            "point to the right file"
        ) from None
    except OSError as error:
        raise SigningKeyError(f"{path}: cannot open it ({error.strerror})") from None
    try:
        info = os.fstat(fd)  # the file we read, not whatever the path names later
        if not stat.S_ISREG(info.st_mode):
            raise SigningKeyError(f"{path} is not a regular file; it must hold {_FORMAT}")
        mode = stat.S_IMODE(info.st_mode)
        if mode & ~0o600:
            raise SigningKeyError(
                f"{path} has mode {mode:04o}, wider than 0600: others could read or replace the "
                f"signing key. Fix: chmod 600 {path}"
            )
        data = _read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise SigningKeyError(f"{path} is over {MAX_BYTES} bytes; it must hold {_FORMAT}")
    try:
        return signer_from_text(data.decode().removesuffix("\n"))
    except (UnicodeDecodeError, NoteError) as error:
        reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
        raise SigningKeyError(
            f"{path}: not a signer key ({reason}); it must hold {_FORMAT}"
        ) from None


def create_key_file(path: Path, name: str) -> str:
    """Write a new signer key named ``name`` to ``path`` (created 0600, never replaced) and
    return its verifier key text, for verifiers."""
    try:
        signer_key, verifier_key = generate_signer(name)
    except NoteError as error:
        raise SigningKeyError(f"{path}: cannot make a key named {name!r}: {error}") from None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(
            f"{path} exists; a signing key is never overwritten, since verifiers trust it. "
            "To replace it, move it away first and give every verifier the new verifier key"
        ) from None
    except OSError as error:
        raise SigningKeyError(f"{path}: cannot create it ({error.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # whatever the umask left
            file.write(signer_key + "\n")
            file.flush()
            os.fsync(file.fileno())
    except BaseException as error:
        path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise SigningKeyError(f"{path}: cannot write it ({error.strerror})") from None
        raise
    _sync_directory(path.parent)
    return verifier_key


def _read(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    while (size := sum(map(len, chunks))) < limit and (chunk := os.read(fd, limit - size)):
        chunks.append(chunk)
    return b"".join(chunks)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
