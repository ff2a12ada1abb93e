"""The personal-data vault on a JetStream KV bucket (docs/architecture.md, "The vault").

``s.<subject_id>.key`` holds the subject's keys (``keys``); ``s.<subject_id>.d.<vault_key>``
holds one record sealed by the subject's data key. Erasure deletes each message of
``s.<subject_id>.>`` with the stream's secure delete, which overwrites it on disk; a KV purge
would leave a marker and a stream purge the old bytes. So the bucket's stream has
deny_delete off (``bucket``).
"""

import hmac
import re
from contextlib import AbstractContextManager

import msgspec
from nats.js import JetStreamContext
from nats.js import errors as js_errors
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from careledger.contracts import PersonalData, PersonalRef
from careledger.contracts.subjects import VAULT_BUCKET
from careledger.vault import crypto
from careledger.vault.bucket import VAULT_STREAM
from careledger.vault.errors import (
    VaultConflict,
    VaultEntryMissing,
    VaultKeyError,
    VaultUnavailable,
)
from careledger.vault.keys import existing_keys, keys_for_storing
from careledger.vault.outage import unavailable

__all__ = [
    "JetStreamVault",
    "VaultConflict",
    "VaultEntryMissing",
    "VaultKeyError",
    "VaultUnavailable",
]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_decode = msgspec.json.Decoder(PersonalData)
_NO_MESSAGE_FOUND = 10057


class JetStreamVault:
    """Store, reveal and erase personal data; NATS not answering raises VaultUnavailable."""

    def __init__(self, kv: KeyValue, master_key: bytes) -> None:
        self.kv = kv
        self.master_key = master_key
        self._js: JetStreamContext = kv._js  # nats-py has no public accessor

    async def store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        with _outage(f"store personal data of subject {subject_id}"):
            return await self._store(subject_id, record_id, data)

    async def reveal(self, subject_id: str, ref: PersonalRef) -> PersonalData:
        with _outage(f"reveal record {ref.vault_key} of subject {subject_id}"):
            return await self._reveal(subject_id, ref)

    async def erase(self, subject_id: str) -> int:
        """Securely delete every message of the subject; how many there were (0 when none)."""
        with _outage(f"erase subject {subject_id}"):
            return await self._erase(subject_id)

    async def _store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        vault_key = _valid("record_id", record_id).lower()
        subject_id = _valid("subject_id", subject_id)
        data_key, salt = await keys_for_storing(self.kv, self.master_key, subject_id)
        aad = crypto.record_aad(subject_id, vault_key)
        sealed = crypto.seal(data_key, msgspec.json.encode(data), aad)
        try:
            await self.kv.create(f"s.{subject_id}.d.{vault_key}", sealed)
        except KeyWrongLastSequenceError:
            if await self._open(subject_id, vault_key, data_key) != data:
                raise VaultConflict(
                    f"record {vault_key} of subject {subject_id} already holds other personal "
                    "data; a record id (event id) is stored once and never overwritten"
                ) from None
        return PersonalRef(vault_key=vault_key, commitment=crypto.commitment(salt, data))

    async def _reveal(self, subject_id: str, ref: PersonalRef) -> PersonalData:
        vault_key = _valid("vault_key", ref.vault_key)
        keys = await existing_keys(self.kv, self.master_key, _valid("subject_id", subject_id))
        if keys is None:
            missing = f"subject {subject_id} has no key: erased, or none stored"
            raise VaultEntryMissing(missing)
        data_key, salt = keys
        data = await self._open(subject_id, vault_key, data_key)
        if not hmac.compare_digest(crypto.commitment(salt, data), ref.commitment):
            raise VaultKeyError(f"record {vault_key} does not match its commitment")
        return data

    async def _erase(self, subject_id: str) -> int:
        subjects, seq, erased = f"$KV.{VAULT_BUCKET}.s.{_valid('subject_id', subject_id)}.>", 1, 0
        while True:
            try:
                msg = await self._js.get_msg(VAULT_STREAM, seq, subjects, next=True)
            except js_errors.NotFoundError:
                return erased
            assert msg.seq is not None
            try:
                await self._js.delete_msg(VAULT_STREAM, msg.seq)  # overwrites the bytes
                erased += 1
            except js_errors.APIError as exc:  # 10057, as code 500: a concurrent erase was first
                if exc.err_code != _NO_MESSAGE_FOUND:
                    raise
            seq = msg.seq + 1

    async def _open(self, subject_id: str, vault_key: str, data_key: bytes) -> PersonalData:
        try:
            entry = await self.kv.get(f"s.{subject_id}.d.{vault_key}")
        except KeyNotFoundError:
            missing = f"record {vault_key} of subject {subject_id} is absent: erased or not stored"
            raise VaultEntryMissing(missing) from None
        aad = crypto.record_aad(subject_id, vault_key)
        return _decode.decode(crypto.open_(data_key, entry.value or b"", aad))


def _outage(what: str) -> AbstractContextManager[None]:
    return unavailable(f"the vault did not answer; cannot {what}")


def _valid(field: str, value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{field} {value!r} cannot name a vault entry: 1-64 letters, digits, '_' or '-' "
            "(a UUID or ULID)"
        )
    return value
