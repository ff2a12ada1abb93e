"""The hash chain: each event's hash covers the previous hash, its sequence and its bytes.

hash(n) = SHA-256(hash(n-1) ‖ sequence as 8 bytes big-endian ‖ payload as received)

The payload is hashed exactly as it arrived from the log (never re-serialised), so the
chain can be recomputed from the stream by anyone. Personal data is not in the payload
(only a vault reference and a salted commitment), so the chain still verifies after an
erasure destroyed the data.
"""

import hashlib

GENESIS = bytes(32)


def link(prev_hash: bytes, sequence: int, payload: bytes) -> bytes:
    digest = hashlib.sha256(prev_hash)
    digest.update(sequence.to_bytes(8, "big"))
    digest.update(payload)
    return digest.digest()
