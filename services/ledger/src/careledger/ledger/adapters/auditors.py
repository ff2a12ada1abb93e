"""Who may ask the ledger what: auditor tokens and their roles, from a TOML file.

    [[auditor]]
    name = "dpo-maria"
    roles = ["auditor", "dpo"]
    token_sha256 = "<sha256 hex of the bearer token>"

Only token hashes are kept, so the file reveals no credential. Roles: ``auditor`` reads
registers, timelines, verification and exports; ``dpo`` may also see personal data (each
such read is recorded). Without a file the registers are open (a local stack) and personal
data is shown to nobody.
"""

import hashlib
import hmac
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLES = frozenset({"auditor", "dpo"})


class AuditorsFileError(ValueError):
    """The auditors file cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class Auditor:
    name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Auditors:
    by_token_hash: dict[str, Auditor]

    @property
    def configured(self) -> bool:
        return bool(self.by_token_hash)

    def authenticate(self, authorization: str | None) -> Auditor | None:
        """The auditor behind an ``Authorization: Bearer <token>`` header, if any."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        for known, auditor in self.by_token_hash.items():
            if hmac.compare_digest(known, digest):
                return auditor
        return None


def load_auditors(path: Path | None) -> Auditors:
    if path is None:
        return Auditors({})
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuditorsFileError(f"cannot read auditors file {path}: {exc}") from exc
    found: dict[str, Auditor] = {}
    for index, entry in enumerate(document.get("auditor", [])):
        where = f"{path} auditor #{index + 1}"
        roles = frozenset(entry.get("roles", ()))
        digest = str(entry.get("token_sha256", "")).lower()
        if not entry.get("name") or len(digest) != 64 or not roles <= ROLES or not roles:
            raise AuditorsFileError(
                f"{where}: needs name, roles (some of {sorted(ROLES)}) and token_sha256 "
                "(64 hex characters: sha256 of the token, e.g. `printf %s TOKEN | sha256sum`)"
            )
        found[digest] = Auditor(str(entry["name"]), roles)
    return Auditors(found)
