"""The log's own tables (events with their hash chain, rejections, position) and the
Arrow rows a batch appends to them."""

import pyarrow as pa

from careledger.ledger.application.ingest import Outcome, Position, Rejection

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  sequence BIGINT PRIMARY KEY,
  event_id VARCHAR NOT NULL UNIQUE,
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
    """The applied events of a batch, each with the hash before it and its own."""
    prev = [previous.hash, *(a.hash for a in outcome.applied[:-1])]
    return pa.Table.from_pylist(
        [
            {
                "sequence": a.sequence,
                "event_id": a.event.event_id,
                "subject": a.subject,
                "type": type(a.event).__name__,
                "aggregate": a.event.aggregate,
                "aggregate_id": a.event.aggregate_id,
                "subject_id": a.event.subject_id,
                "occurred_at": a.event.occurred_at,
                "recorded_at": a.event.recorded_at,
                "payload": a.payload,
                "prev_hash": p,
                "hash": a.hash,
            }
            for a, p in zip(outcome.applied, prev, strict=True)
        ],
        schema=EVENTS_SCHEMA,
    )


def rejected_rows(rejected: list[Rejection]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "sequence": r.message.sequence,
                "subject": r.message.subject,
                "rule": r.rule,
                "reason": r.reason,
                "payload": r.message.data,
            }
            for r in rejected
        ],
        schema=REJECTED_SCHEMA,
    )
