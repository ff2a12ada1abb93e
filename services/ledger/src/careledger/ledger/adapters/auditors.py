"""Who may ask the ledger what: auditor tokens and their roles, from a TOML file.

    [[auditor]]
    name = "dpo-maria"
    roles = ["auditor", "dpo"]
    token_sha256 = "<sha256 hex of the bearer token>"

Only token hashes are kept, so the file reveals no credential. Roles: ``auditor`` reads
registers, timelines, verification and exports; ``dpo`` may also see personal data (each
such read is recorded). The ledger refuses to start without a file that lists someone,
unless ``CARELEDGER_INSECURE_DEV=1`` (then, without a file, the registers are open and
personal data is shown to nobody). Parsing and hashing: ``careledger.runtime.principals``.
"""

from dataclasses import dataclass
from pathlib import Path

from careledger.runtime.principals import Entry, Principals, PrincipalsFileError, load_principals

ROLES = frozenset({"auditor", "dpo"})
AuditorsFileError = PrincipalsFileError


@dataclass(frozen=True)
class Auditor:
    name: str
    roles: frozenset[str]


Auditors = Principals[Auditor]


def _auditor(where: str, name: str, entry: Entry) -> Auditor:
    roles = entry.get("roles", ())
    if not isinstance(roles, list) or not roles or not set(roles) <= ROLES:
        raise AuditorsFileError(f"{where} ({name}): roles must list some of {sorted(ROLES)}")
    return Auditor(name, frozenset(roles))


def load_auditors(path: Path | None) -> Auditors:
    return load_principals(path, "auditor", _auditor)
