"""What every decision shares: the context it is made in, how it refuses, the envelope."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn

from careledger.contracts import FieldError, Source
from careledger.contracts.commands import Command

SERVICE = "careledger-intake"
MAX_CLOCK_SKEW = dt.timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a decision needs from outside: the clock and the ids.

    ``event_id`` and ``new_id`` are derived from the caller's idempotency key, so the same
    request decided twice yields the same event. The vault reference of personal data is
    attached by the application after deciding, so a refused command stores nothing.
    """

    now: dt.datetime
    event_id: str
    new_id: str
    max_clock_skew: dt.timedelta = MAX_CLOCK_SKEW


class Rejected(Exception):
    """A command refused by a rule. ``status`` is 422 for rule breaches, 409 for conflicts."""

    def __init__(self, *errors: FieldError, status: int = 422) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = list(errors)
        self.status = status


def reject(field: str, rule: str, message: str, *, status: int = 422) -> NoReturn:
    raise Rejected(FieldError(field=field, rule=rule, message=message), status=status)


def require_not_in_future(command: Command, ctx: Context) -> None:
    try:
        command.occurred_at.astimezone(dt.UTC)
    except OverflowError:
        reject(
            "$.occurred_at",
            "range",
            f"occurred_at {command.occurred_at.isoformat()} is before the year 1 in UTC",
        )
    if command.occurred_at > ctx.now + ctx.max_clock_skew:
        reject(
            "$.occurred_at",
            "not_in_future",
            f"occurred_at {command.occurred_at.isoformat()} is in the future: intake's clock "
            f"reads {ctx.now.isoformat()} and allows at most "
            f"{int(ctx.max_clock_skew.total_seconds())} s of clock skew",
        )


def envelope(command: Command, ctx: Context, channel: Any = None) -> dict[str, Any]:
    """The fields every event carries, filled from the command and the context."""
    return {
        "event_id": ctx.event_id,
        "occurred_at": command.occurred_at.astimezone(dt.UTC),
        "recorded_at": ctx.now.astimezone(dt.UTC),
        "subject_id": command.subject_id,
        "actor": command.actor,
        "source": Source(service=SERVICE, client_id=command.client_id, channel=channel),
        "correlation_id": command.correlation_id or ctx.event_id,
    }


def require_filled(field: str, value: str, what: str) -> None:
    if not value.strip():
        reject(field, "required", f"{what} is required and may not be blank")
