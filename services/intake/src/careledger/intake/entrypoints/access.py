"""Who may send a command over HTTP, decided before the body is read: 401 without a known
bearer token, 403 for a command the client is not granted. Each refusal is logged and
counted by the gate (the client's name, never its token). That a command carries the
client's own ``client_id`` is checked once it is decoded (``submission.submit``)."""

from typing import Any

from litestar import Request

from careledger.contracts import FieldError
from careledger.contracts.commands import PRIVACY_COMMANDS
from careledger.intake.adapters.clients import Client
from careledger.intake.entrypoints.submission import Reply, refusal
from careledger.runtime.gate import Gate

ClientGate = Gate[Client]
Admission = tuple[Client | None, Reply | None]


def admit(gate: ClientGate, request: Request[Any, Any, Any], command: str) -> Admission:
    """(the client, None) to go on, or (None, the refusal); (None, None) when the API is
    open (``CARELEDGER_INSECURE_DEV=1`` without a clients file)."""
    client = gate.principal(request)
    if client is None and gate.open_access:
        return None, None
    if client is None:
        gate.refused(request, 401, "bearer_token")
        return None, refusal(401, unauthenticated())
    if not client.may_send(command):
        gate.refused(request, 403, "command_not_granted")
        return None, refusal(403, not_granted(client, command))
    return client, None


def unauthenticated() -> FieldError:
    return FieldError(
        field="Authorization",
        rule="bearer_token",
        message="send Authorization: Bearer <token> with the token of a client listed in "
        "intake's clients file (CARELEDGER_CLIENTS_FILE)",
    )


def not_granted(client: Client, command: str) -> FieldError:
    privacy = (
        f"; {command} is a privacy command, granted only by name, never by '*'"
        if command in PRIVACY_COMMANDS
        else ""
    )
    return FieldError(
        field="Authorization",
        rule="command_not_granted",
        message=f"client {client.name!r} may not send {command}: its grant is "
        f"{sorted(client.commands)}{privacy}",
    )
