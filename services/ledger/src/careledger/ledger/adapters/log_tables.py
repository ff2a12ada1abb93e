"""The log's own tables (events with their hash chain, their keys, rejections, position)
and the Arrow rows a batch appends to them.

``event_id`` carries no UNIQUE index: ``ingest`` rejects an event id the ledger holds
(``LedgerStore.known``, in the same process that alone writes the file) or that came
earlier in the batch, before anything is written. The index cost memory that grew with the
log and a checkpoint that rewrote it whole, slower each time (docs/performance.md). Files
created before keep their index; it still holds.

``event_keys`` holds each event's key (``event_key``: 8 bytes of its id) by sequence:
what ``known`` scans instead of the ids. It is written in the same transaction as ``events``,
and a file written before it had one gets it on open (``LedgerStore``).
"""

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
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
  sequence BIGINT PRIMARY KEY,
  subject VARCHAR NOT NULL,
  rule VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,
  payload BLOB NOT NULL,
  rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ledger_position (
  id INTEGER PRIMARY KEY,
  sequence BIGINT NOT NULL,
  hash BLOB NOT NULL
);
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
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        ("sequence", pa.int64()),
        ("subject", pa.string()),
        ("rule", pa.string()),
        ("reason", pa.string()),
        ("payload", pa.binary()),
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
        [e.recorded_at for e in events],
        [a.payload for a in applied],
        [previous.hash, *hashes[:-1]],
        hashes,
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
                "subject": r.message.nats_subject,
                "rule": r.rule,
                "reason": r.reason,
                "payload": r.message.data,
            }
            for r in rejected
        ],
        schema=REJECTED_SCHEMA,
    )
