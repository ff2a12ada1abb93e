"""Signed notes and checkpoints, byte for byte as c2sp.org/signed-note and
c2sp.org/tlog-checkpoint define them and Go's golang.org/x/mod/sumdb/note writes them.

    note        = text (UTF-8, ending in "\\n", empty lines allowed) ‖ "\\n" ‖ signature lines
    signature   = "— " name " " base64(key id ‖ Ed25519 signature of the text) "\\n"
    key id      = SHA-256(name ‖ "\\n" ‖ 0x01 ‖ 32-byte public key)[:4], big-endian
    signer key  = PRIVATE+KEY+<name>+<key id, 8 hex>+base64(0x01 ‖ 32-byte seed)   (secret)
    verifier key = <name>+<key id, 8 hex>+base64(0x01 ‖ 32-byte public key)
    checkpoint  = origin "\\n" tree size "\\n" base64(root hash) "\\n" (extension line "\\n")*

A note is separated from its signatures by its last empty line; it holds no ASCII control
character but the newline. Opening a note ignores signatures by other keys (the spec's
MUST: that is how keys rotate and witnesses cosign), and refuses a note whose signature by
the verifier's key (same name and key id) does not verify, or that has none.

Pure: no file or network I/O (``adapters.signing_key`` reads key files). Errors name the
line and the rule; they never quote key material.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # the signature type byte of c2sp.org/signed-note
MAX_SIGNATURES = 100  # Go's limit; the spec asks verifiers to accept at least 16
MAX_TREE_SIZE = 2**63 - 1  # the largest size Go's tlog reads (int64)
_DASH = "\u2014 "  # em dash, space
_SPACES = frozenset(  # Unicode White_Space, as Go's unicode.IsSpace
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_KEY_ID = re.compile("[0-9a-f]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]*")


class NoteError(ValueError):
    """A key, note or checkpoint the formats do not allow; the message says where and why."""


@dataclass(frozen=True)
class Verifier:
    """Checks signatures by one Ed25519 key, known by its name and key id."""

    name: str
    key_id: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name, "verifier")
        if len(self.public_key) != 32:
            raise NoteError(
                f"verifier {self.name}: an Ed25519 public key is 32 bytes, not "
                f"{len(self.public_key)}"
            )
        _check_key_id(self.name, self.key_id, self.public_key, "verifier")


@dataclass(frozen=True)
class Signer:
    """Signs with one Ed25519 private key (never shown in its repr)."""

    name: str
    key_id: int
    key: Ed25519PrivateKey = field(repr=False, compare=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "signer")
        object.__setattr__(self, "public_key", self.key.public_key().public_bytes_raw())
        _check_key_id(self.name, self.key_id, self.public_key, "signer key")


def _key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def generate_signer(name: str) -> tuple[str, str]:
    """A new key named ``name``: (signer key text, to keep secret; verifier key text)."""
    _check_name(name, "signer")
    key = Ed25519PrivateKey.generate()
    signer = Signer(name, _key_id(name, key.public_key().public_bytes_raw()), key)
    seed = _b64(bytes([ED25519]) + key.private_bytes_raw())
    return f"PRIVATE+KEY+{name}+{signer.key_id:08x}+{seed}", vkey(verifier_of(signer))


def signer_from_text(text: str) -> Signer:
    parts = text.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError(
            "a signer key is PRIVATE+KEY+<name>+<key id>+<key>; this text is not "
            "(a verifier key has no PRIVATE+KEY+ prefix)"
        )
    name, hex_id, encoded = parts[2:]
    seed = _key_material(name, hex_id, encoded, "signer key")
    return Signer(name, int(hex_id, 16), Ed25519PrivateKey.from_private_bytes(seed))


def verifier_from_text(text: str) -> Verifier:
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(
            f"a verifier key is <name>+<key id>+<key>; this text has {len(parts)} part(s)"
        )
    name, hex_id, encoded = parts
    public_key = _key_material(name, hex_id, encoded, "verifier key")
    return Verifier(name, int(hex_id, 16), public_key)


def verifier_of(signer: Signer) -> Verifier:
    return Verifier(signer.name, signer.key_id, signer.public_key)


def vkey(verifier: Verifier) -> str:
    encoded = _b64(bytes([ED25519]) + verifier.public_key)
    return f"{verifier.name}+{verifier.key_id:08x}+{encoded}"


def sign(text: str, signer: Signer) -> str:
    """The signed note: ``text``, a blank line, and ``signer``'s signature line."""
    _check_characters(text, "text")
    if not text.endswith("\n"):
        raise NoteError("the text of a note must end in a newline")
    signature = signer.key.sign(text.encode())
    return f"{text}\n{_DASH}{signer.name} {_b64(signer.key_id.to_bytes(4, 'big') + signature)}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` if ``verifier``'s signature on it verifies; NoteError if not."""
    _check_characters(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError(
            "the note has no empty line: a signed note is its text, an empty line, "
            "then its signature lines"
        )
    text, block = note[: split + 1], note[split + 2 :]
    first = text.count("\n") + 2  # the number of the first signature line
    if not block:
        raise NoteError(f"the note has no signature line after its empty line (line {first - 1})")
    if not block.endswith("\n"):
        last = note.count("\n") + 1
        raise NoteError(f"line {last} of the note (its last) does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(
            f"the note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are read"
        )
    ours, seen = 0, []
    for number, line in enumerate(lines, start=first):
        name, signed_by, signature = _signature_line(line, number)
        seen.append(f"{name}+{signed_by:08x}")
        if (name, signed_by) == (verifier.name, verifier.key_id):
            _verify(verifier, text, signature, number)
            ours += 1
    if not ours:
        raise NoteError(
            f"the note has no signature by {verifier.name}+{verifier.key_id:08x}; "
            f"it is signed by {', '.join(seen)}"
        )
    return text


def open_by_any(note: str, verifiers: Sequence[Verifier]) -> str:
    """The text of ``note`` if one of ``verifiers`` signed it (a log's current key and the
    keys rotated out of it); NoteError naming the keys it is signed by if none did."""
    if not verifiers:
        raise NoteError("no verifier key to open the note with")
    problems = []
    for verifier in verifiers:
        try:
            return open_note(note, verifier)
        except NoteError as exc:
            problems.append(str(exc))
    raise NoteError(problems[0] if len(problems) == 1 else "; ".join(dict.fromkeys(problems)))


@dataclass(frozen=True)
class Checkpoint:
    """A tree head of a log: its origin, its size and its RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, 1)
        for number, line in enumerate(self.extensions, start=4):
            _check_line(line, number)
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(
                f"a checkpoint's size is a whole number from 0 to {MAX_TREE_SIZE}, "
                f"not {self.size!r}"
            )
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise NoteError(f"a checkpoint's root hash is 32 bytes, not {self.root!r:.80}")


def checkpoint_text(checkpoint: Checkpoint) -> str:
    lines = (checkpoint.origin, str(checkpoint.size), _b64(checkpoint.root), *checkpoint.extensions)
    return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note's text holds (open the note first); NoteError names the bad line."""
    _check_characters(text, "checkpoint")
    if not text.endswith("\n"):
        raise NoteError("a checkpoint's text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(
            "a checkpoint has at least 3 lines (origin, tree size, root hash); "
            f"this text has {len(lines)}"
        )
    for number, line in enumerate(lines, start=1):
        _check_line(line, number)
    origin, size, root, *extensions = lines
    if not _DECIMAL.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise NoteError(
            f"line 2 of the checkpoint (the tree size) is {size[:30]!r}: expected a "
            f"decimal number from 0 to {MAX_TREE_SIZE} without leading zeros"
        )
    raw = _from_b64(root, "line 3 of the checkpoint (the root hash)")
    if len(raw) != 32:
        raise NoteError(
            f"line 3 of the checkpoint (the root hash) decodes to {len(raw)} bytes; "
            "a root hash is 32"
        )
    return Checkpoint(origin, int(size), raw, tuple(extensions))


def _check_name(name: str, what: str) -> None:
    if not name:
        raise NoteError(f"{what}: the key name is empty")
    bad = next((c for c in name if c in _SPACES or c == "+" or c < " "), None)
    if bad is not None:
        raise NoteError(
            f"{what} {name!r}: a key name may not contain U+{ord(bad):04X} "
            "(no spaces, no '+', no control characters)"
        )
    _utf8(name, f"{what} {name!r}")


def _check_key_id(name: str, claimed: int, public_key: bytes, what: str) -> None:
    actual = _key_id(name, public_key)
    if claimed != actual:
        raise NoteError(
            f"{what} {name}: key id {claimed:08x} does not match the key, whose id is {actual:08x}"
        )


def _key_material(name: str, hex_id: str, encoded: str, what: str) -> bytes:
    if not _KEY_ID.fullmatch(hex_id):  # first: in a mangled signer key, "name" may be key text
        raise NoteError(
            f"{what}: its key id (after the name) is not 8 lowercase hex digits, but "
            f"{len(hex_id)} characters"
        )
    _check_name(name, what)
    raw = _from_b64(encoded, f"{what} {name}: its key")
    if not raw or raw[0] != ED25519:
        found = f"0x{raw[0]:02x}" if raw else "missing"
        raise NoteError(
            f"{what} {name}: the signature type byte is {found}; only Ed25519 (0x01) is supported"
        )
    if len(raw) != 33:
        raise NoteError(f"{what} {name}: an Ed25519 key is 32 bytes, not {len(raw) - 1}")
    return raw[1:]


def _signature_line(line: str, number: int) -> tuple[str, int, bytes]:
    if not line.startswith(_DASH):
        raise NoteError(
            f"line {number} of the note is not a signature line: it must start with "
            "an em dash (U+2014) and a space"
        )
    name, _, encoded = line[len(_DASH) :].partition(" ")
    _check_name(name, f"line {number} of the note")
    raw = _from_b64(encoded, f"line {number} of the note (the signature by {name})")
    if len(raw) < 5:
        raise NoteError(
            f"line {number} of the note: the signature by {name} is {len(raw)} "
            "bytes, too short for a key id and a signature"
        )
    return name, int.from_bytes(raw[:4], "big"), raw[4:]


def _verify(verifier: Verifier, text: str, signature: bytes, number: int) -> None:
    who = f"{verifier.name}+{verifier.key_id:08x}"
    if len(signature) != 64:
        raise NoteError(
            f"line {number} of the note: the signature by {who} is "
            f"{len(signature)} bytes; an Ed25519 signature is 64"
        )
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(signature, text.encode())
    except InvalidSignature:
        raise NoteError(
            f"line {number} of the note: the signature by {who} does not verify; "
            "the text or the signature was changed"
        ) from None


def _check_characters(text: str, what: str) -> None:
    _utf8(text, f"the {what}")
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise NoteError(
            f"line {line} of the {what} holds the control character "
            f"U+{ord(found.group()):04X}; only newlines may be below U+0020"
        )


def _check_line(line: str, number: int) -> None:
    if not line:
        raise NoteError(
            f"line {number} of the checkpoint is empty; checkpoint lines are "
            "non-empty (is this a signed note? open it first)"
        )
    if "\n" in line or _CONTROL.search(line):
        raise NoteError(f"line {number} of the checkpoint holds a newline or control character")


def _utf8(text: str, what: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as error:
        raise NoteError(f"{what} is not valid UTF-8 (character {error.start})") from None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _from_b64(encoded: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4), strictly: padded, canonical, nothing else."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not standard base64") from None
    if _b64(raw) != encoded:
        raise NoteError(f"{what} is not canonical base64")
    return raw
