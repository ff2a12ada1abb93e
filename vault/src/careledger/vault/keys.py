"""Each data subject's key entry in the vault, ``s.<subject_id>.key``.

It holds the subject's data key wrapped by the master key, and the salt of the subject's
commitments sealed by that data key. The first store makes it; erasure deletes it, and
with it every record of the subject becomes unreadable.
"""

import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from careledger.vault import crypto

Keys = tuple[bytes, bytes]  # (data key, commitment salt)


class _SubjectKey(msgspec.Struct, frozen=True):
    wrapped_key: bytes
    sealed_salt: bytes


async def existing_keys(kv: KeyValue, master_key: bytes, subject_id: str) -> Keys | None:
    """The subject's data key and salt; None when it has none (erased, or none stored)."""
    try:
        entry = await kv.get(_entry(subject_id))
    except KeyNotFoundError:
        return None
    return _opened(master_key, subject_id, entry.value or b"")


async def keys_for_storing(kv: KeyValue, master_key: bytes, subject_id: str) -> Keys:
    """The subject's data key and salt, made with its first store."""
    found = await existing_keys(kv, master_key, subject_id)
    if found is not None:
        return found
    data_key, salt = crypto.new_data_key(), crypto.new_salt()
    wrapped = crypto.wrap(master_key, data_key, subject_id)
    stored = _SubjectKey(wrapped, crypto.seal(data_key, salt, _salt_aad(subject_id)))
    try:
        await kv.create(_entry(subject_id), msgspec.msgpack.encode(stored))
    except KeyWrongLastSequenceError:  # a concurrent first store won: use its key
        entry = await kv.get(_entry(subject_id))
        return _opened(master_key, subject_id, entry.value or b"")
    return data_key, salt


def _opened(master_key: bytes, subject_id: str, value: bytes) -> Keys:
    stored = msgspec.msgpack.decode(value, type=_SubjectKey)
    data_key = crypto.unwrap(master_key, stored.wrapped_key, subject_id)
    return data_key, crypto.open_(data_key, stored.sealed_salt, _salt_aad(subject_id))


def _entry(subject_id: str) -> str:
    return f"s.{subject_id}.key"


def _salt_aad(subject_id: str) -> bytes:
    return b"careledger/vault/salt/v1\x00" + subject_id.encode()
