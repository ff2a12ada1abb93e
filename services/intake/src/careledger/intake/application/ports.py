"""Ports: what the application needs from the outside world, as Protocols.

The real adapters live in ``careledger.intake.adapters``; tests may provide fakes that
implement the same Protocols.
"""

from dataclasses import dataclass
from typing import Protocol

from careledger.contracts import PersonalData, PersonalRef
from careledger.contracts.events import Event


@dataclass(frozen=True)
class Recorded:
    """An event as the log holds it, with its stream sequence and the digest of the command
    it was decided from (None for events appended without one: before digests were
    recorded, or by a direct publisher)."""

    sequence: int
    event: Event
    command_digest: str | None = None


@dataclass(frozen=True)
class History:
    """Every event of one aggregate, and the last sequence on its subject (0 if none).

    ``last_sequence`` counts messages that are not valid events too, since the optimistic
    concurrency check of the next append compares against it.
    """

    events: tuple[Recorded, ...] = ()
    last_sequence: int = 0


@dataclass(frozen=True)
class Appended:
    sequence: int
    duplicate: bool


class ConcurrentWrite(Exception):
    """Another writer appended to the aggregate since we read it."""


class LogUnavailable(Exception):
    """The log did not answer in time; nothing is known to be appended. Retry later."""


class VaultConflict(ValueError):
    """A record id already holds different personal data; records are never overwritten."""


class EventLog(Protocol):
    async def history(self, aggregate: str, aggregate_id: str) -> History: ...

    async def append(
        self, event: Event, expected_last_sequence: int, command_digest: str | None = None
    ) -> Appended:
        """Append ``event`` and keep ``command_digest`` beside it, for ``history`` to return."""
        ...


class Vault(Protocol):
    async def store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        """Store ``data`` once under ``record_id``; the same data again changes nothing.

        Other data under a stored ``record_id`` raises VaultConflict.
        """
        ...

    async def holds(self, subject_id: str, ref: PersonalRef, data: PersonalData) -> bool | None:
        """Whether the record ``ref`` names holds ``data``; None when it cannot tell (the
        subject was erased, the record is gone)."""
        ...

    async def erase(self, subject_id: str) -> int: ...
