"""Who may call the HTTP APIs of a local stack: the clients file intake reads and the
auditors file the ledger reads, with fresh bearer tokens, all of mode 0600.

``make run`` makes, on first start, one channel client (``dev-channel``, ``client_id``
``crm``, every command including ``erase-subject``) and one auditor (``dev-auditor``, roles
``auditor`` and ``dpo``); the tokens are kept in ``var/tokens/<name>.token`` and the files
hold only their SHA-256. Tests write their own with the same functions.
"""

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from careledger.runtime.principals import token_sha256
from careledger.stack.secrets import write_secret

DEV_CLIENT, DEV_CLIENT_ID, DEV_AUDITOR = "dev-channel", "crm", "dev-auditor"
EVERY_COMMAND = ("*", "erase-subject")  # "*" leaves out privacy commands: named here


@dataclass(frozen=True)
class ClientGrant:
    name: str
    token: str
    client_id: str
    commands: tuple[str, ...] = EVERY_COMMAND


@dataclass(frozen=True)
class AuditorGrant:
    name: str
    token: str
    roles: tuple[str, ...] = ("auditor", "dpo")


@dataclass(frozen=True)
class DevPrincipals:
    clients_file: Path
    auditors_file: Path
    client_token: str | None  # None: the token file is gone (delete the files to start anew)
    auditor_token: str | None
    created: bool

    def service_env(self) -> dict[str, str]:
        return {
            "CARELEDGER_CLIENTS_FILE": str(self.clients_file.resolve()),
            "CARELEDGER_AUDITORS_FILE": str(self.auditors_file.resolve()),
        }


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _toml(table: str, fields: dict[str, str | tuple[str, ...]]) -> str:
    lines = [f"[[{table}]]"]
    for key, value in fields.items():
        text = json.dumps(list(value) if isinstance(value, tuple) else value)
        lines.append(f"{key} = {text}")  # a JSON string or array of strings is valid TOML
    return "\n".join(lines) + "\n"


def write_clients_file(path: Path, clients: Iterable[ClientGrant]) -> None:
    tables = [
        _toml(
            "client",
            {
                "name": c.name,
                "token_sha256": token_sha256(c.token),
                "client_id": c.client_id,
                "commands": c.commands,
            },
        )
        for c in clients
    ]
    write_secret(path, "\n".join(tables).encode())


def write_auditors_file(path: Path, auditors: Iterable[AuditorGrant]) -> None:
    tables = [
        _toml("auditor", {"name": a.name, "token_sha256": token_sha256(a.token), "roles": a.roles})
        for a in auditors
    ]
    write_secret(path, "\n".join(tables).encode())


def ensure_dev_principals(var: Path) -> DevPrincipals:
    """``var/clients.toml``, ``var/auditors.toml`` and ``var/tokens/``, made if missing;
    existing files are kept (and so are the tokens they were made with)."""
    return ensure_principals(var, ClientGrant(DEV_CLIENT, "", DEV_CLIENT_ID), DEV_AUDITOR)


def ensure_principals(directory: Path, client: ClientGrant, auditor_name: str) -> DevPrincipals:
    """``clients.toml`` (``client``, with a fresh token) and ``auditors.toml`` (one auditor
    with both roles) in ``directory``, their tokens in ``tokens/``; kept if they exist."""
    clients, auditors = directory / "clients.toml", directory / "auditors.toml"
    tokens = directory / "tokens"
    created = not (clients.exists() and auditors.exists())
    if created:
        client = ClientGrant(client.name, new_token(), client.client_id, client.commands)
        auditor = AuditorGrant(auditor_name, new_token())
        write_secret(tokens / f"{client.name}.token", client.token.encode() + b"\n")
        write_secret(tokens / f"{auditor.name}.token", auditor.token.encode() + b"\n")
        write_clients_file(clients, [client])
        write_auditors_file(auditors, [auditor])
    return DevPrincipals(
        clients,
        auditors,
        _read_token(tokens / f"{client.name}.token"),
        _read_token(tokens / f"{auditor_name}.token"),
        created,
    )


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
