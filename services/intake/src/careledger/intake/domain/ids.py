"""Ids derived from the caller's idempotency key: a retry at any later time, even after
the stream's duplicate window, decides to the very same event id and entity id."""

import hashlib
import uuid
from collections.abc import Mapping

NAMESPACE = uuid.UUID("6f1c2d0e-8a1b-5c3d-9e4f-0a1b2c3d4e5f")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def event_id_for(command_name: str, idempotency_key: str, addresses: Mapping[str, str]) -> str:
    """The event id of a request: its command, its key and the aggregates it addresses.

    The addresses are part of it so that a key reused for another aggregate cannot collide
    with the first event (the replay check only looks at the aggregates a request loads).
    """
    scope = ",".join(f"{name}={value}" for name, value in sorted(addresses.items()))
    return str(uuid.uuid5(NAMESPACE, f"{command_name}\nevent\n{idempotency_key}\n{scope}"))


def entity_id_for(command_name: str, idempotency_key: str) -> str:
    """The id of what the command creates (contact, consent, complaint) when not given."""
    return str(uuid.uuid5(NAMESPACE, f"{command_name}\nentity\n{idempotency_key}"))


def tracking_code_for(complaint_id: str) -> str:
    """A short code for the customer (ISO 10002 unique identifier): CL-XXXX-XXXX-XXXX.

    60 bits of SHA-256 over the complaint id in Crockford base32 (no I, L, O, U).
    """
    number = int.from_bytes(hashlib.sha256(complaint_id.encode()).digest()[:8], "big") >> 4
    chars = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in range(12))
    return f"CL-{chars[0:4]}-{chars[4:8]}-{chars[8:12]}"
