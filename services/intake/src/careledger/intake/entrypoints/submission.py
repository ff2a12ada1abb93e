"""One way to submit a command, shared by the HTTP and NATS entrypoints.

Bytes in, (status, reply bytes) out: decode strictly, hand to intake, encode the answer.
Both transports therefore refuse the same input with the same field-level errors.
"""

import logging
import re
from dataclasses import dataclass

from careledger.contracts import ErrorReply, FieldError, InvalidPayload, decode_command, encode
from careledger.contracts.commands import Command
from careledger.intake.application.intake import Intake
from careledger.intake.application.ports import LogUnavailable
from careledger.intake.domain import Rejected
from careledger.intake.entrypoints.every_error import every_error

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{8,200}$")
TITLES = {
    400: "Malformed request",
    401: "Unauthenticated: a known bearer token is required",
    403: "Forbidden for this client",
    409: "Conflict with the recorded history",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Refused by a rule",
    429: "Too many requests from this client",
    500: "Internal error: retry with the same Idempotency-Key",
    503: "Event log unavailable: retry with the same Idempotency-Key",
}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


def refusal(status: int, *errors: FieldError) -> Reply:
    return Reply(
        status, encode(ErrorReply(status=status, title=TITLES[status], errors=list(errors)))
    )


def internal_error() -> Reply:
    """The reply to a failure no rule foresaw; the details stay in intake's log."""
    return refusal(
        500,
        FieldError(
            field="$",
            rule="internal_error",
            message="intake failed unexpectedly and logged why; whether the command was "
            "recorded is unknown: retrying with the same Idempotency-Key is safe",
        ),
    )


def _not_own_client_id(sent: str, own: str) -> FieldError:
    return FieldError(
        field="$.client_id",
        rule="client_id",
        message=f"this client's token may send only client_id {own!r}, not {sent!r}",
    )


def check_idempotency_key(key: str | None) -> FieldError | None:
    if key is None or not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        return FieldError(
            field="Idempotency-Key",
            rule="required" if key is None else "pattern",
            message="an Idempotency-Key header of 8 to 200 printable ASCII characters is "
            "required: send the same key again to retry safely",
        )
    return None


async def submit(
    intake: Intake,
    command_type: type[Command],
    body: bytes,
    key: str | None,
    client_id: str | None = None,
) -> Reply:
    """``client_id``: the only one the command may carry (the HTTP client's), if any."""
    missing_key = check_idempotency_key(key)
    if missing_key is not None:
        return refusal(400, missing_key)
    assert key is not None
    try:
        command = decode_command(body, command_type)
    except InvalidPayload as exc:
        if exc.error.rule == "json":
            return refusal(400, exc.error)
        return refusal(422, *every_error(body, command_type, exc.error))
    if client_id is not None and command.client_id != client_id:
        return refusal(403, _not_own_client_id(command.client_id, client_id))
    try:
        accepted = await intake.handle(command, key)
    except Rejected as exc:
        return refusal(exc.status, *exc.errors)
    except LogUnavailable as exc:
        log.warning("%s refused for now: %s", command_type.name, exc)
        return refusal(503, FieldError(field="$", rule="log_unavailable", message=str(exc)))
    return Reply(201, encode(accepted))
