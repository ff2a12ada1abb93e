"""An event as the ledger applied it: its place in the log, its hash, its leaf in the
Merkle tree, and when the log recorded it."""

import datetime as dt
from dataclasses import dataclass, field

from careledger.contracts.events import Event


@dataclass(frozen=True)
class Applied:
    """``recorded_at`` is the ledger's clock, never the publisher's: the instant the stream
    stored the message (the server's timestamp, UTC). The event's own ``recorded_at`` is
    what its publisher claims, and the recorded axis never reads it."""

    sequence: int
    event: Event
    hash: bytes
    nats_subject: str = ""  # the log's subject it came on (not the data subject)
    payload: bytes = b""
    recorded_at: dt.datetime = field(kw_only=True)
    subject_prev: int = field(default=0, kw_only=True)  # the subject's event before it
    leaf_hash: bytes = field(default=b"", kw_only=True)  # RFC 9162 (``merkle.leaf``)
