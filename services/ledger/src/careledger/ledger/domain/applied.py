"""An event as the ledger applied it: its place in the log and its hash."""

from dataclasses import dataclass

from careledger.contracts.events import Event


@dataclass(frozen=True)
class Applied:
    sequence: int
    event: Event
    hash: bytes
    nats_subject: str = ""  # the log's subject it came on (not the data subject)
    payload: bytes = b""
