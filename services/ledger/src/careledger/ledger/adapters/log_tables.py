"""The log's own tables (events with their hash chain, their keys, rejections, position)
and the Arrow rows a batch appends to them.

``event_id`` carries no UNIQUE index: ``ingest`` rejects an event id the ledger holds
(``LedgerStore.known``, in the same process that alone writes the file) or that came
earlier in the batch, before anything is written. The index cost memory that grew with the
log and a checkpoint that rewrote it whole, slower each time (docs/performance.md, 'Tried,
measured, kept'). Files created before keep their index; it still holds.

``event_keys`` holds each event's key (``event_key``: 8 bytes of its id) by sequence:
what ``known`` scans instead of the ids. It is written in the same transaction as ``events``,
and a file written before it had one gets it on open (``LedgerStore``).

``recorded_at`` is when the stream stored the event, by the NATS server's clock (read from
its delivery, ``consumer.log_message``): no publisher sets it. ``claimed_recorded_at`` is
the ``recorded_at`` the publisher wrote in the event, kept for auditors to compare and never
read as the recorded axis. ``recorded_clock`` says whose clock ``recorded_at`` is:
``server``, or ``publisher`` for an event applied by a version that did not read the
server's (``CLOCK_THE_LOG``, on open: the stored instant cannot be had offline, so the
claim stays, marked as one). The stored instant is not under the hash chain (previous
hash, sequence and payload; the claim is in the payload): ``verify`` compares it with the
stream.
"""

import hashlib
import re

import pyarrow as pa

from careledger.ledger.domain import event_key
from careledger.ledger.ingest.ingest import Outcome, Position, Rejection

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  sequence BIGINT PRIMARY KEY,
  event_id VARCHAR NOT NULL,
  subject VARCHAR NOT NULL,
  type VARCHAR NOT NULL,
  aggregate VARCHAR NOT NULL,
  aggregate_id VARCHAR NOT NULL,
  subject_id VARCHAR NOT NULL,
  occurred_at TIMESTAMPTZ NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  payload BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  claimed_recorded_at TIMESTAMPTZ NOT NULL,
  recorded_clock VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
  sequence BIGINT PRIMARY KEY,
  subject VARCHAR NOT NULL,
  rule VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  payload_sha256 VARCHAR NOT NULL,
  rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ledger_position (
  id INTEGER PRIMARY KEY,
  sequence BIGINT NOT NULL,
  hash BLOB NOT NULL
);
"""
SERVER, PUBLISHER = "server", "publisher"  # recorded_clock
# One transaction: the NOT NULLs before the UPDATE (DuckDB refuses them after it).
CLOCK_THE_LOG = f"""
ALTER TABLE events ADD COLUMN claimed_recorded_at TIMESTAMPTZ DEFAULT 'epoch';
ALTER TABLE events ADD COLUMN recorded_clock VARCHAR DEFAULT '{PUBLISHER}';
ALTER TABLE events ALTER COLUMN claimed_recorded_at SET NOT NULL;
ALTER TABLE events ALTER COLUMN recorded_clock SET NOT NULL;
ALTER TABLE events ALTER COLUMN claimed_recorded_at DROP DEFAULT;
ALTER TABLE events ALTER COLUMN recorded_clock DROP DEFAULT;
UPDATE events SET claimed_recorded_at = recorded_at;
"""
EVENT_KEYS = f"""
CREATE TABLE IF NOT EXISTS event_keys (
  sequence BIGINT NOT NULL,
  key {event_key.TYPE} NOT NULL
)
"""
EVENTS_SCHEMA = pa.schema(
    [
        ("sequence", pa.int64()),
        ("event_id", pa.string()),
        ("subject", pa.string()),
        ("type", pa.string()),
        ("aggregate", pa.string()),
        ("aggregate_id", pa.string()),
        ("subject_id", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("payload", pa.binary()),
        ("prev_hash", pa.binary()),
        ("hash", pa.binary()),
        ("claimed_recorded_at", pa.timestamp("us", tz="UTC")),
        ("recorded_clock", pa.string()),
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        ("sequence", pa.int64()),
        ("subject", pa.string()),
        ("rule", pa.string()),
        ("reason", pa.string()),
        ("payload_sha256", pa.string()),
    ]
)


def event_rows(outcome: Outcome, previous: Position) -> pa.Table:
    """The applied events of a batch, each with the hash before it and its own (columnar)."""
    applied = outcome.applied
    events = [a.event for a in applied]
    hashes = [a.hash for a in applied]
    columns = [
        [a.sequence for a in applied],
        [e.event_id for e in events],
        [a.nats_subject for a in applied],
        [type(e).__name__ for e in events],
        [e.aggregate for e in events],
        [e.aggregate_id for e in events],
        [e.subject_id for e in events],
        [e.occurred_at for e in events],
        [a.recorded_at for a in applied],
        [a.payload for a in applied],
        [previous.hash, *hashes[:-1]],
        hashes,
        [e.recorded_at for e in events],
        [SERVER] * len(applied),
    ]
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, EVENTS_SCHEMA, strict=True)],
        schema=EVENTS_SCHEMA,
    )


def rejected_rows(rejected: list[Rejection]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "sequence": r.message.sequence,
                "subject": scrubbed(r.message.nats_subject),
                "rule": r.rule,
                "reason": scrubbed(r.reason),
                "payload_sha256": hashlib.sha256(r.message.data).hexdigest(),
            }
            for r in rejected
        ],
        schema=REJECTED_SCHEMA,
    )


def scrubbed(text: str) -> str:
    """``text`` without a token that could be an address or a handle: what a rejection keeps
    forever comes from whoever published, so what looks like personal data is left out (the
    dead letter, kept for a bounded time, has the whole message)."""
    return _ADDRESS.sub("[left out: could be personal data]", text)


_ADDRESS = re.compile(r"[^\s`'\".,;:()<>]*@[^\s`'\",;:()<>]*")
