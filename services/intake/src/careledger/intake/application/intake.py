"""The intake handler: load the facts, decide, keep personal data aside, append once."""

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable

import msgspec

from careledger.contracts import FieldError, PersonalData
from careledger.contracts.commands import Command, EraseSubject
from careledger.contracts.events import ComplaintEvent, ConsentGiven, ConsentWithdrawn, Event
from careledger.contracts.replies import Accepted
from careledger.contracts.subjects import event_subject
from careledger.intake.application.digest import command_digest
from careledger.intake.application.ports import (
    ConcurrentWrite,
    EventLog,
    History,
    Recorded,
    Vault,
    VaultConflict,
)
from careledger.intake.domain import Context, Rejected, addresses, decide, fold
from careledger.intake.domain.ids import entity_id_for, event_id_for, tracking_code_for

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Intake:
    """Turns commands into appended events, exactly once per idempotency key."""

    def __init__(
        self, log: EventLog, vault: Vault, clock: Clock = utc_now, max_attempts: int = 5
    ) -> None:
        self.log = log
        self.vault = vault
        self.clock = clock
        self.max_attempts = max_attempts

    async def handle(self, command: Command, idempotency_key: str) -> Accepted:
        accepted = await self._append_once(command, idempotency_key)
        if isinstance(command, EraseSubject):
            # After the fact is in the log, and again on every retry: erasure converges.
            await self.vault.erase(command.subject_id)
        return accepted

    async def _append_once(self, command: Command, idempotency_key: str) -> Accepted:
        new_id = entity_id_for(command.name, idempotency_key)
        loads = addresses(command, new_id)
        event_id = event_id_for(command.name, idempotency_key, loads)
        digest = command_digest(command)
        for _ in range(self.max_attempts):
            histories = dict(
                zip(
                    loads,
                    await asyncio.gather(*(self.log.history(a, i) for a, i in loads.items())),
                    strict=True,
                )
            )
            earlier = _find(histories.values(), event_id)
            if earlier is not None:
                await self._require_same_request(command, digest, earlier)
                return accepted(earlier.event, earlier.sequence, replayed=True)
            facts = fold(r.event for h in histories.values() for r in h.events)
            ctx = Context(now=self.clock(), event_id=event_id, new_id=new_id)
            (event,) = decide(command, facts, ctx)
            event = await self._keep_personal_data_aside(command, event)
            try:
                appended = await self.log.append(
                    event, histories[event.aggregate].last_sequence, digest
                )
            except ConcurrentWrite:
                # Someone else appended: reload and decide again. If it was the subject's
                # erasure, the data just stored must go too: the retry will be refused.
                if event.personal is not None:
                    await self._erase_again_if_erased_meanwhile(command.subject_id)
                continue
            if event.personal is not None:
                await self._erase_again_if_erased_meanwhile(command.subject_id)
            return accepted(event, appended.sequence, replayed=appended.duplicate)
        raise Rejected(
            FieldError(
                field="$",
                rule="concurrent_write",
                message=f"the record kept changing under {self.max_attempts} attempts; retry "
                "with the same Idempotency-Key",
            ),
            status=409,
        )

    async def _require_same_request(self, command: Command, digest: str, earlier: Recorded) -> None:
        """A replay must be the request first sent under its key: the same digest, the same
        personal data. An event appended without a digest, or whose subject's personal data
        is erased, cannot be compared on that part and answers as the original."""
        if earlier.command_digest is not None and earlier.command_digest != digest:
            raise _reused_key(command, "a different body")
        personal: PersonalData | None = getattr(command, "personal", None)
        sent = personal is not None and not personal.is_empty()
        ref = earlier.event.personal
        if sent != (ref is not None):
            raise _reused_key(command, "different personal data")
        if personal is not None and ref is not None and sent:
            held = await self.vault.holds(command.subject_id, ref, personal)
            if held is False:  # None: erased, nothing left to compare with
                raise _reused_key(command, "different personal data")

    async def _erase_again_if_erased_meanwhile(self, subject_id: str) -> None:
        """An erasure appended while this request was deciding cannot have seen the personal
        data this request just stored: the append only checked its own aggregate."""
        history = await self.log.history("subject", subject_id)
        if fold(r.event for r in history.events).subject.erased:
            await self.vault.erase(subject_id)

    async def _keep_personal_data_aside(self, command: Command, event: Event) -> Event:
        personal = getattr(command, "personal", None)
        if personal is None or personal.is_empty():
            return event
        try:
            ref = await self.vault.store(command.subject_id, event.event_id, personal)
        except VaultConflict:
            raise _reused_key(command, "different personal data") from None
        return msgspec.structs.replace(event, personal=ref)


def _reused_key(command: Command, what: str) -> Rejected:
    """The key was first used for another request (the IETF Idempotency-Key draft's 422).
    ``what`` says what differs in general terms only: never the other request's data."""
    return Rejected(
        FieldError(
            field="Idempotency-Key",
            rule="idempotency_key_reused",
            message=f"this Idempotency-Key was already used for a {command.name} with {what}; "
            "nothing was recorded for this request: retry with exactly that request, or send "
            "a new request with a new Idempotency-Key",
        )
    )


def _find(histories: Iterable[History], event_id: str) -> Recorded | None:
    """The event this very request produced before, if the log already holds it."""
    for history in histories:
        for recorded in history.events:
            if recorded.event.event_id == event_id:
                return recorded
    return None


def accepted(event: Event, sequence: int, *, replayed: bool) -> Accepted:
    return Accepted(
        event_id=event.event_id,
        type=type(event).__name__,
        subject=event_subject(event),
        stream_sequence=sequence,
        aggregate=event.aggregate,
        aggregate_id=event.aggregate_id,
        consent_id=event.consent_id if isinstance(event, ConsentGiven | ConsentWithdrawn) else None,
        tracking_code=tracking_code_for(event.complaint_id)
        if isinstance(event, ComplaintEvent)
        else None,
        replayed=replayed,
    )
