"""Who may call an HTTP API: principals listed in a TOML file by the SHA-256 of their bearer
token, one array of tables per file (``[[client]]`` for intake, ``[[auditor]]`` for the
ledger). Every entry has a ``name`` and a ``token_sha256``; each service reads its own
further fields. Only hashes are kept, so the file reveals no credential.

A service refuses to start without a file that lists at least one principal (fail closed)
unless ``CARELEDGER_INSECURE_DEV=1``: then, without a file, its routes are open to anyone.
"""

import hashlib
import hmac
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

INSECURE_DEV = "CARELEDGER_INSECURE_DEV"
HASH_HINT = "64 hex characters: the SHA-256 of the token, e.g. `printf %s TOKEN | sha256sum`"


class PrincipalsFileError(ValueError):
    """The principals file cannot be used; the message names the file, the entry and the fix."""


class Named(Protocol):
    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=Named)
Entry = Mapping[str, Any]


def insecure_dev(env: Mapping[str, str]) -> bool:
    """Whether ``CARELEDGER_INSECURE_DEV=1`` (nothing else turns it on)."""
    return env.get(INSECURE_DEV, "").strip() == "1"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what it is."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True)
class Principals(Generic[P]):
    by_token_hash: Mapping[str, P]
    source: Path | None = None

    @property
    def configured(self) -> bool:
        return bool(self.by_token_hash)

    def authenticate(self, authorization: str | None) -> P | None:
        """The principal behind an ``Authorization: Bearer <token>`` header, if any. Every
        known hash is compared, in constant time, so the answer's timing says nothing."""
        token = bearer_token(authorization)
        if token is None:
            return None
        digest = token_sha256(token).encode()
        found: P | None = None
        for known, principal in self.by_token_hash.items():
            if hmac.compare_digest(known.encode(), digest):
                found = principal
        return found


def load_principals(
    path: Path | None, table: str, build: Callable[[str, str, Entry], P]
) -> "Principals[P]":
    """The ``[[table]]`` entries of ``path`` (none without a path); ``build(where, name,
    entry)`` checks a service's own fields and raises PrincipalsFileError naming ``where``."""
    if path is None:
        return Principals({})
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PrincipalsFileError(f"cannot read {path}: {exc}") from exc
    found: dict[str, P] = {}
    names: set[str] = set()
    for index, entry in enumerate(document.get(table, [])):
        where = f"{path} [[{table}]] #{index + 1}"
        name, digest = str(entry.get("name", "")), str(entry.get("token_sha256", "")).lower()
        if not name:
            raise PrincipalsFileError(f"{where}: needs a name")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise PrincipalsFileError(f"{where} ({name}): token_sha256 must be {HASH_HINT}")
        if digest in found or name in names:
            raise PrincipalsFileError(f"{where} ({name}): name and token must be unique")
        found[digest] = build(where, name, entry)
        names.add(name)
    return Principals(found, path)


def require_principals(
    principals: "Principals[P]", variable: str, path: Path | None, insecure_dev: bool
) -> None:
    """Fail closed: PrincipalsFileError unless the file lists someone or ``insecure_dev``."""
    if principals.configured or insecure_dev:
        return
    fix = f"set {INSECURE_DEV}=1 only for a local trial with every route open"
    if path is None:
        raise PrincipalsFileError(
            f"{variable} is not set: refusing to start without a file of who may call the "
            f"HTTP API (token hashes); name one in {variable}, or {fix}"
        )
    raise PrincipalsFileError(
        f"{variable}={path} lists nobody: refusing to start with no one allowed; add an "
        f"entry, or {fix}"
    )
