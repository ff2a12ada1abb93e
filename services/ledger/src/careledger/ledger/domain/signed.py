"""A checkpoint as the ledger signed it: the tree's size and root, the C2SP signed note
(tlog-checkpoint body and signature line), and when."""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Signed:
    size: int
    root: bytes
    note: str
    signed_at: dt.datetime
