"""Who may send intake commands over HTTP: channel systems and their grants, from a TOML
file named by ``CARELEDGER_CLIENTS_FILE``.

    [[client]]
    name = "crm-madrid"
    token_sha256 = "<sha256 hex of the bearer token>"
    client_id = "crm"                          # the only client_id its commands may carry
    commands = ["open-contact", "give-consent"]  # or ["*"]: every command but privacy ones

Privacy commands (``erase-subject``) are granted only by name, never by ``"*"``.
"""

from dataclasses import dataclass
from pathlib import Path

import msgspec

from careledger.contracts.commands import COMMANDS_BY_NAME, PRIVACY_COMMANDS
from careledger.contracts.vocabulary import Code
from careledger.runtime.principals import Entry, Principals, PrincipalsFileError, load_principals

EVERY_COMMAND = "*"


@dataclass(frozen=True)
class Client:
    name: str
    client_id: str
    commands: frozenset[str]

    def may_send(self, command: str) -> bool:
        if command in self.commands:
            return True
        return EVERY_COMMAND in self.commands and command not in PRIVACY_COMMANDS


Clients = Principals[Client]


def _client(where: str, name: str, entry: Entry) -> Client:
    client_id, commands = entry.get("client_id"), entry.get("commands")
    try:
        msgspec.convert(client_id, Code)
    except msgspec.ValidationError:
        raise PrincipalsFileError(
            f"{where} ({name}): client_id must be a lowercase code (letters, digits, "
            f"'_', '.', ':', '-'), the one its commands carry; not {client_id!r}"
        ) from None
    known = {EVERY_COMMAND, *COMMANDS_BY_NAME}
    if not isinstance(commands, list) or not commands or not set(commands) <= known:
        raise PrincipalsFileError(
            f"{where} ({name}): commands must list some of {sorted(known)} "
            f"({EVERY_COMMAND!r}: every command but {sorted(PRIVACY_COMMANDS)}, which are "
            f"granted only by name); not {commands!r}"
        )
    return Client(name, str(client_id), frozenset(commands))


def load_clients(path: Path | None) -> Clients:
    return load_principals(path, "client", _client)
