"""NATS request/reply entrypoint: ``careledger.intake.<command>``, same replies as HTTP.

The reply body is the same JSON as the HTTP body; the status travels in the
``CareLedger-Status`` header (not ``Status``, which NATS reserves for its own codes).
The request carries the ``Idempotency-Key`` header.
"""

import logging
from collections.abc import Awaitable, Callable

from faststream import Response
from faststream.nats import NatsBroker, NatsMessage

from careledger.contracts.commands import COMMAND_TYPES, Command
from careledger.contracts.subjects import IDEMPOTENCY_KEY, command_subject
from careledger.intake.application.intake import Intake
from careledger.intake.entrypoints.submission import internal_error, submit

log = logging.getLogger(__name__)

QUEUE = "careledger-intake"
STATUS = "CareLedger-Status"
Handler = Callable[[NatsMessage], Awaitable[Response]]


def command_handler(command_type: type[Command], intake: Callable[[], Intake]) -> Handler:
    async def handle(msg: NatsMessage) -> Response:
        try:
            key = (msg.raw_message.headers or {}).get(IDEMPOTENCY_KEY)
            reply = await submit(intake(), command_type, msg.body, key)
        except Exception:  # the requester still gets an answer, not a timeout
            log.exception("%s over NATS failed unexpectedly", command_type.name)
            reply = internal_error()
        return Response(reply.body, headers={STATUS: str(reply.status)})

    handle.__name__ = command_type.__name__
    handle.__doc__ = command_type.__doc__
    return handle


def register_command_handlers(
    broker: NatsBroker, intake: Callable[[], Intake], workers: int = 16
) -> None:
    """One subscriber per command; each answers up to ``workers`` requests at a time (a
    core subscriber otherwise handles one, so a slow vault stalls its whole command)."""
    for command_type in COMMAND_TYPES:
        broker.subscriber(
            command_subject(command_type),
            queue=QUEUE,
            title=f"intake.{command_type.name}",
            description=(command_type.__doc__ or "").strip(),
            max_workers=workers,
        )(command_handler(command_type, intake))
