"""The digest of a command: what a replay under the same Idempotency-Key is compared with.

SHA-256 of the command as the contracts' codec encodes it (fields in declaration order,
defaults filled in), so how the caller spelt its JSON (key order, whitespace, an omitted
default) does not matter. Personal data is left out: the digest travels in a header of the
event, on a stream that never forgets, and a hash of a name or an email is personal data
that erasure could not remove. A replay's personal data is compared through the vault.
"""

import hashlib

import msgspec

from careledger.contracts import encode
from careledger.contracts.commands import Command

PREFIX = "sha256:"


def command_digest(command: Command) -> str:
    """``sha256:<hex>`` of the canonical command without its personal data."""
    if getattr(command, "personal", None) is not None:
        command = msgspec.structs.replace(command, personal=None)
    return PREFIX + hashlib.sha256(encode(command)).hexdigest()
