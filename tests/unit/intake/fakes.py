"""In-memory fakes of intake's ports, keeping the promises the JetStream adapters keep.

``InMemoryEventLog`` is one stream, as nats-server runs it: a stream-wide sequence; an
append carrying its event id as ``Nats-Msg-Id``, answered as a duplicate with the first
sequence before any other check; then ``Nats-Expected-Last-Subject-Sequence`` checked
against the last message on the event's subject. Its duplicate window never closes.
The world around it is scripted: ``write_concurrently`` lands another writer's events
between a history and the next append, ``fail`` makes calls time out before anything is
stored, ``lose_acks`` stores an append and loses its PubAck.

The digest of the command an event was decided from is kept beside it, as the JetStream
log keeps it in a header; ``forget_digests`` makes the events look appended before digests.

``InMemoryVault`` stores a record once under its id, refuses other data there, tells whether
a record holds given data (None once erased), and erases a subject's records whole.
``before_next_store`` runs something (say, an erasure) just before the next store, as a
concurrent request would.
"""

import hashlib
from collections.abc import Awaitable, Callable
from typing import Literal

from careledger.contracts import PersonalData, PersonalRef, encode
from careledger.contracts.events import Event
from careledger.contracts.subjects import aggregate_subject, event_subject
from careledger.intake.application.ports import (
    Appended,
    ConcurrentWrite,
    History,
    LogUnavailable,
    Recorded,
    VaultConflict,
)

Call = Literal["history", "append"]


class InMemoryEventLog:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Event | None]] = []  # sequence n is messages[n - 1]
        self._sequence_of: dict[str, int] = {}  # Nats-Msg-Id -> sequence
        self._digests: dict[int, str] = {}  # sequence -> command digest
        self._rivals: list[Event] = []
        self._failing: dict[Call, int] = {"history": 0, "append": 0}
        self._lost_acks = 0

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.messages if event is not None]

    def write_concurrently(self, *events: Event) -> None:
        """Another writer appends one of ``events`` just before each of our next appends."""
        self._rivals.extend(events)

    def fail(self, call: Call, times: int = 1) -> None:
        """The next ``times`` calls of ``call`` time out, storing nothing."""
        self._failing[call] += times

    def lose_acks(self, times: int = 1) -> None:
        """The next ``times`` appends are stored, but their PubAck never arrives."""
        self._lost_acks += times

    def forget_digests(self) -> None:
        """Every event held looks appended before command digests were recorded."""
        self._digests.clear()

    def append_invalid(self, aggregate: str, aggregate_id: str) -> None:
        """A message on the subject that is no event: not in histories, yet it has a sequence."""
        self.messages.append((aggregate_subject(aggregate, aggregate_id), None))

    async def history(self, aggregate: str, aggregate_id: str) -> History:
        subject = aggregate_subject(aggregate, aggregate_id)
        self._time_out_if_failing("history", f"cannot read {subject}")
        recorded = tuple(
            Recorded(sequence, event, self._digests.get(sequence))
            for sequence, (on, event) in enumerate(self.messages, start=1)
            if on == subject and event is not None
        )
        return History(recorded, self._last_on(subject))

    async def append(
        self, event: Event, expected_last_sequence: int, command_digest: str | None = None
    ) -> Appended:
        self._time_out_if_failing("append", f"no PubAck for {event.event_id}")
        if self._rivals:
            self._store(self._rivals.pop(0))
        if event.event_id in self._sequence_of:
            return Appended(sequence=self._sequence_of[event.event_id], duplicate=True)
        last = self._last_on(event_subject(event))
        if last != expected_last_sequence:
            raise ConcurrentWrite(f"wrong last sequence: {last}, not {expected_last_sequence}")
        sequence = self._store(event)
        if command_digest is not None:
            self._digests[sequence] = command_digest
        if self._lost_acks:
            self._lost_acks -= 1
            raise LogUnavailable(f"no PubAck for {event.event_id}")
        return Appended(sequence=sequence, duplicate=False)

    def _store(self, event: Event) -> int:
        self.messages.append((event_subject(event), event))
        self._sequence_of[event.event_id] = len(self.messages)
        return len(self.messages)

    def _last_on(self, subject: str) -> int:
        on_subject = [n for n, (on, _) in enumerate(self.messages, start=1) if on == subject]
        return on_subject[-1] if on_subject else 0

    def _time_out_if_failing(self, call: Call, what: str) -> None:
        if self._failing[call]:
            self._failing[call] -= 1
            raise LogUnavailable(f"{what}: timed out")


class InMemoryVault:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, PersonalData]] = {}  # subject -> vault key -> data
        self.before_next_store: Callable[[], Awaitable[object]] | None = None

    async def store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        if self.before_next_store is not None:
            run, self.before_next_store = self.before_next_store, None
            await run()
        vault_key = record_id.lower()
        held = self.records.setdefault(subject_id, {})
        if held.setdefault(vault_key, data) != data:
            raise VaultConflict(f"record {vault_key} of subject {subject_id} holds other data")
        commitment = hashlib.sha256(subject_id.encode() + encode(data)).hexdigest()
        return PersonalRef(vault_key=vault_key, commitment=commitment)

    async def holds(self, subject_id: str, ref: PersonalRef, data: PersonalData) -> bool | None:
        held = self.records.get(subject_id, {}).get(ref.vault_key)
        return None if held is None else held == data

    async def erase(self, subject_id: str) -> int:
        """Remove every record of the subject; how many there were."""
        return len(self.records.pop(subject_id, {}))
