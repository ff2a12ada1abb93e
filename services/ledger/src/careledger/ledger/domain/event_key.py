"""An event's key: the first 8 bytes of the MD5 of its id, kept beside its stream sequence
in ``event_keys`` so that "is this event id in the log?" scans integers, not strings.

Every batch asks that question of the whole log (``LedgerStore.known``): it is what turns
a publisher's retry after JetStream's duplicate window into a no-op. Event ids are random,
so zone maps prune nothing and the answer reads every id ever applied: as 8-byte keys
that scan costs a fraction of what 36-character strings cost (docs/performance.md, 'What
grows with the log'). The key finds the candidates; the id, read by sequence, decides,
so keys that collide (by chance or by design) cost a look, never a wrong answer.

The key is computed in SQL, vectorised, where the rows are: from MD5's hex digest, which
its standard (RFC 1321) fixes, so a key written by one version is the key the next one
asks for. Never DuckDB's ``hash()``: it may change between versions, and a key that no
longer matches would let a duplicate into the ledger unseen.
"""

TYPE = "UBIGINT"


def key_of(column: str) -> str:
    """SQL for the key of the event id in ``column``."""
    return f"('0x' || left(md5({column}), 16))::{TYPE}"
