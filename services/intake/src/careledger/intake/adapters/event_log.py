"""The event log on JetStream: read one aggregate's history, append with concurrency checks.

Reads use batched direct gets (``next_by_subj``), so intake keeps no database of its own
and creates no consumer per request. Appends always wait for the PubAck and carry
``Nats-Msg-Id`` (dedupe) and ``Nats-Expected-Last-Subject-Sequence`` (no silent forks),
and ``CareLedger-Command-Digest``: the digest of the command the event was decided from,
which a replay under the same Idempotency-Key is compared with (a header, not an event
field, so the shared contracts stay as they are; the ledger ignores it).

On a replicated stream any replica answers a direct get, and a follower may not have the
latest messages yet (measured on a 3-node cluster: docs/decisions.md, 'Direct gets on a
replicated stream can be stale'). The append's sequence check covers the aggregate it
writes, not the others a decision reads (the contact a consent names), so there the
history's last sequence is checked with the stream leader, and read from the leader when
it is behind.
"""

import json
import logging

import nats.js.errors
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from careledger.contracts import InvalidPayload, decode_event, encode
from careledger.contracts.events import Event
from careledger.contracts.subjects import (
    EVENT_STREAM,
    EVENT_TYPE,
    EXPECTED_LAST_SUBJECT_SEQUENCE,
    MSG_ID,
    aggregate_subject,
    event_subject,
)
from careledger.intake.application.ports import (
    Appended,
    ConcurrentWrite,
    History,
    LogUnavailable,
    Recorded,
)
from careledger.vault.outage import UNAVAILABLE

log = logging.getLogger(__name__)

COMMAND_DIGEST = "CareLedger-Command-Digest"  # of the command the event was decided from
WRONG_LAST_SEQUENCE = 10071
_BATCH = 256


class JetStreamEventLog:
    def __init__(
        self,
        nc: Client,
        *,
        stream: str = EVENT_STREAM,
        timeout: float = 2.0,
        replicated: bool = False,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=timeout)
        self.stream = stream
        self.timeout = timeout
        self.replicated = replicated

    async def history(self, aggregate: str, aggregate_id: str) -> History:
        subject = aggregate_subject(aggregate, aggregate_id)
        found = await self._direct_history(subject)
        if self.replicated and await self._leader_last(subject) > found.last_sequence:
            log.info("a replica was behind the leader on %s; reading from the leader", subject)
            found = await self._leader_history(subject)
        return found

    async def _leader_last(self, subject: str) -> int:
        """The last sequence on ``subject`` as the stream leader knows it (0 if none)."""
        try:
            return (await self.js.get_last_msg(self.stream, subject)).seq or 0
        except nats.js.errors.NotFoundError:
            return 0
        except (*UNAVAILABLE, nats.js.errors.APIError) as exc:  # e.g. no leader elected yet
            raise LogUnavailable(f"cannot read {subject}: {exc!r}") from exc

    async def _leader_history(self, subject: str) -> History:
        """The history read one message at a time from the leader (slower, never stale)."""
        events: list[Recorded] = []
        last = 0
        try:
            while True:
                msg = await self.js.get_msg(self.stream, seq=last + 1, subject=subject, next=True)
                last = msg.seq or last + 1
                events.extend(_decoded(last, msg.data or b"", subject, msg.headers))
        except nats.js.errors.NotFoundError:
            return History(tuple(events), last)
        except (*UNAVAILABLE, nats.js.errors.APIError) as exc:
            raise LogUnavailable(f"cannot read {subject}: {exc!r}") from exc

    async def _direct_history(self, subject: str) -> History:
        inbox = self.nc.new_inbox()
        try:
            sub = await self.nc.subscribe(inbox)
        except UNAVAILABLE as exc:
            raise LogUnavailable(f"cannot read {subject}: {exc!r}") from exc
        events: list[Recorded] = []
        last, start = 0, 1
        try:
            while True:
                request = {"seq": start, "next_by_subj": subject, "batch": _BATCH}
                await self.nc.publish(
                    f"$JS.API.DIRECT.GET.{self.stream}", json.dumps(request).encode(), reply=inbox
                )
                batch = await self._drain_batch(sub, subject, events)
                if batch is None:
                    break
                pending, seen = batch
                last = max(last, seen)
                if pending == 0:
                    break
                start = last + 1
        except UNAVAILABLE as exc:
            raise LogUnavailable(f"cannot read {subject}: {exc!r}") from exc
        finally:
            await _quietly_unsubscribe(sub)
        return History(tuple(events), last)

    async def _drain_batch(
        self, sub: Subscription, subject: str, events: list[Recorded]
    ) -> tuple[int, int] | None:
        """Collect one batch: (messages still pending, last sequence seen), None if none."""
        last_seen = 0
        while True:
            msg = await sub.next_msg(timeout=self.timeout)
            headers = msg.headers or {}
            status = headers.get("Status")
            if status == "404":
                return None
            if status == "204":
                return int(headers.get("Nats-Num-Pending", "0")), last_seen
            if status:
                raise LogUnavailable(f"direct get on {subject} answered {status}: {headers}")
            last_seen = int(headers["Nats-Sequence"])
            events.extend(_decoded(last_seen, msg.data, subject, headers))

    async def append(
        self, event: Event, expected_last_sequence: int, command_digest: str | None = None
    ) -> Appended:
        headers = {
            MSG_ID: event.event_id,
            EXPECTED_LAST_SUBJECT_SEQUENCE: str(expected_last_sequence),
            EVENT_TYPE: type(event).__name__,
        }
        if command_digest is not None:
            headers[COMMAND_DIGEST] = command_digest
        try:
            ack = await self.js.publish(
                event_subject(event), encode(event), stream=self.stream, headers=headers
            )
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise ConcurrentWrite(str(exc)) from exc
            raise
        except UNAVAILABLE as exc:
            raise LogUnavailable(f"no PubAck for {event.event_id}: {exc!r}") from exc
        return Appended(sequence=ack.seq, duplicate=bool(ack.duplicate))


def _decoded(
    sequence: int, data: bytes, subject: str, headers: dict[str, str] | None
) -> list[Recorded]:
    try:
        return [Recorded(sequence, decode_event(data), (headers or {}).get(COMMAND_DIGEST))]
    except InvalidPayload as exc:
        # Not a fact: the ledger dead-letters it. It still counts for the sequence check.
        log.warning("ignoring invalid message %s on %s: %s", sequence, subject, exc)
        return []


async def _quietly_unsubscribe(sub: Subscription) -> None:
    try:
        await sub.unsubscribe()
    except Exception:  # the connection may be gone; the inbox dies with it
        log.debug("unsubscribe failed", exc_info=True)
