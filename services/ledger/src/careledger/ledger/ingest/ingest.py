"""Turn a batch of log messages into what the ledger commits: applied events with their
hashes, rejections with their reasons, and the new position. Pure but for the store's
answers to three questions: which of these event ids does it hold, which of these
contacts, consents and complaints exist, and which consent id SQL reads in a payload.

**One consent id both ways.** Consent events are keyed by a consent id that no column of
``events`` holds, so SQL over the log reads it from the payload's JSON (``CONSENT_ID``:
an as-of question's subject closure, the split of a rebuild in parts). JSON can name
another id than the decoded event: with a repeated key msgspec keeps the last, DuckDB the
first; and msgspec skips an unknown field unread, where SQL cannot read invalid UTF-8.
Such an event is refused (rule ``ambiguous_payload``): an as-of answer built on the
JSON's id would differ from the register, and the ledger cannot say which one was meant.
"""

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from careledger.contracts import InvalidPayload, decode_event
from careledger.contracts.events import ConsentGiven, ConsentWithdrawn, Event
from careledger.contracts.subjects import event_subject
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.chain import GENESIS, link
from careledger.ledger.domain.merkle import TILE, Frontier, Node, leaf, leaf_hash
from careledger.ledger.domain.references import Ref, created, referenced

# NULL where the payload is no UTF-8 text (msgspec skips a field it does not know unread).
CONSENT_ID = "json_extract_string(try(decode(payload)), '$.consent_id')"
CONSENT_EVENTS = (ConsentGiven, ConsentWithdrawn)
CONSENT_TYPES = "(" + ", ".join(f"'{t.__name__}'" for t in CONSENT_EVENTS) + ")"  # SQL


@dataclass(frozen=True)
class LogMessage:
    """One message of the event stream as the consumer received it. ``recorded_at``: when
    the stream stored it, by the server's clock (UTC, to the microsecond): the ledger's
    recorded time, which no publisher can set."""

    sequence: int
    nats_subject: str  # careledger.events.<aggregate>.<id>; the data subject is subject_id
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    recorded_at: dt.datetime = field(kw_only=True)


@dataclass(frozen=True)
class Position:
    """The last stream sequence the ledger holds (applied or rejected), the chain head, and
    the Merkle tree's right edge (its size: the events applied)."""

    sequence: int = 0
    hash: bytes = GENESIS
    tree: Frontier = field(default_factory=Frontier)


@dataclass(frozen=True)
class Rejection:
    message: LogMessage
    rule: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    applied: list[Applied]
    rejected: list[Rejection]
    position: Position
    nodes: list[Node] = field(default_factory=list)  # of the tree, at the stored levels


class OutOfOrder(Exception):
    """The batch does not continue from the ledger's position; nothing may be applied."""


class Store(Protocol):
    def known(self, event_ids: Collection[str]) -> set[str]: ...
    def existing(self, refs: Collection[Ref]) -> set[Ref]: ...
    def consent_ids(self, payloads: Sequence[bytes]) -> list[str | None]: ...
    def latest_of_subjects(self, subject_ids: Collection[str]) -> dict[str, int]: ...


@dataclass(frozen=True)
class Committing:
    """The store as it will be once ``outcome``, still being committed, is: what the next
    batch is ingested against meanwhile. The store's answers may come from before that
    commit or after it; the outcome's own ids and creations complete them either way."""

    store: Store
    outcome: Outcome

    def known(self, event_ids: Collection[str]) -> set[str]:
        ids = set(event_ids)
        return self.store.known(ids) | (ids & {a.event.event_id for a in self.outcome.applied})

    def existing(self, refs: Collection[Ref]) -> set[Ref]:
        asked = set(refs)
        made = {ref for a in self.outcome.applied if (ref := created(a.event)) is not None}
        return self.store.existing(asked) | (asked & made)

    def consent_ids(self, payloads: Sequence[bytes]) -> list[str | None]:
        return self.store.consent_ids(payloads)

    def latest_of_subjects(self, subject_ids: Collection[str]) -> dict[str, int]:
        """The outcome's events are later than anything the store holds."""
        latest = self.store.latest_of_subjects(subject_ids)
        asked = set(subject_ids)
        for a in self.outcome.applied:
            if a.event.subject_id in asked:
                latest[a.event.subject_id] = a.sequence
        return latest


def ingest(messages: Sequence[LogMessage], position: Position, store: Store) -> Outcome:
    fresh = sorted((m for m in messages if m.sequence > position.sequence), key=_seq)
    _require_contiguous(fresh, position)
    decoded: list[tuple[LogMessage, Event]] = []
    rejected: list[Rejection] = []
    for message in fresh:
        try:
            decoded.append((message, decode_event(message.data)))
        except InvalidPayload as exc:
            rejected.append(Rejection(message, f"contract:{exc.error.rule}", str(exc)))
    decoded = _unambiguous(decoded, store, rejected)
    already = store.known([event.event_id for _, event in decoded])
    exist = store.existing({r for _, e in decoded if (r := referenced(e)) is not None})
    accepted: list[tuple[LogMessage, Event, bytes]] = []
    head = position.hash
    for message, event in decoded:
        problem = _problem(message, event, already) or _dangling(event, exist)
        if problem:
            rejected.append(Rejection(message, *problem))
            continue
        already.add(event.event_id)
        if (made := created(event)) is not None:
            exist.add(made)
        head = link(head, message.sequence, message.data)
        accepted.append((message, event, head))
    applied, tree, nodes = grow_tree(accepted, position.tree, store)
    last = fresh[-1].sequence if fresh else position.sequence
    rejected.sort(key=lambda r: r.message.sequence)
    return Outcome(applied, rejected, Position(last, head, tree), nodes)


def grow_tree(
    accepted: list[tuple[LogMessage, Event, bytes]], edge: Frontier, store: Store
) -> tuple[list[Applied], Frontier, list[Node]]:
    """The accepted events as applied, each with its leaf (linked to its subject's event
    before it: in the store, or earlier in the batch), the tree's edge after them and the
    nodes they complete at the stored levels. Here, not in the commit: ingest overlaps the
    commit of the batch before, and the commit is the loop's longest part."""
    latest = store.latest_of_subjects({e.subject_id for _, e, _ in accepted}) if accepted else {}
    applied = []
    for message, event, chain in accepted:
        prev, latest[event.subject_id] = latest.get(event.subject_id, 0), message.sequence
        applied.append(
            Applied(
                message.sequence,
                event,
                chain,
                message.nats_subject,
                message.data,
                recorded_at=message.recorded_at,
                subject_prev=prev,
                leaf_hash=leaf_hash(leaf(message.sequence, prev, chain, message.data)),
            )
        )
    tree, nodes = edge.append([a.leaf_hash for a in applied], keep=TILE)
    return applied, tree, nodes


def _unambiguous(
    decoded: list[tuple[LogMessage, Event]], store: Store, rejected: list[Rejection]
) -> list[tuple[LogMessage, Event]]:
    """The decoded events, less consent events whose JSON names another consent id."""
    consents = [(m, e) for m, e in decoded if isinstance(e, CONSENT_EVENTS)]
    read = store.consent_ids([m.data for m, _ in consents])
    refused = set()
    for (message, event), json_id in zip(consents, read, strict=True):
        assert isinstance(event, CONSENT_EVENTS)
        if json_id != event.consent_id:
            refused.add(message.sequence)
            said = (
                "cannot be read as UTF-8 text (in a field the contract does not know?)"
                if json_id is None
                else f"names consent_id {json_id!r} in its JSON (a repeated key?)"
            )
            reason = f"the payload {said} where the event decodes to {event.consent_id!r}"
            rejected.append(Rejection(message, "ambiguous_payload", reason))
    return [(m, e) for m, e in decoded if m.sequence not in refused]


def _problem(message: LogMessage, event: Event, already: set[str]) -> tuple[str, str] | None:
    expected = event_subject(event)
    if (came_on := message.nats_subject) != expected:
        return "subject", f"{type(event).__name__} belongs on {expected}, not {came_on}"
    if event.event_id in already:
        return "duplicate_event_id", f"event {event.event_id} is already in the ledger"
    return None


def _dangling(event: Event, exist: set[Ref]) -> tuple[str, str] | None:
    ref = referenced(event)
    if ref is None or ref in exist:
        return None
    kind, ref_id = ref
    return "unknown_reference", (
        f"{type(event).__name__} refers to {kind} {ref_id}, which no earlier event created"
    )


def _require_contiguous(fresh: list[LogMessage], position: Position) -> None:
    """No gap: from the position on, and within the batch even for an empty ledger (whose
    first sequence the consumer checks: a stream may start above 1 after retention)."""
    expected = position.sequence + 1 if position.sequence else None
    for message in fresh:
        if expected is not None and message.sequence != expected:
            raise OutOfOrder(f"expected stream sequence {expected}, got {message.sequence}")
        expected = message.sequence + 1


def _seq(message: LogMessage) -> int:
    return message.sequence
