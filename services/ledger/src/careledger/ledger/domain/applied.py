"""An event as the ledger applied it: its place in the log and its hash."""

from dataclasses import dataclass

from careledger.contracts.events import Event


@dataclass(frozen=True)
class Applied:
    sequence: int
    event: Event
    hash: bytes
    subject: str = ""
    payload: bytes = b""
