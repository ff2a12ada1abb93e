"""The personal-data vault on a JetStream KV bucket (DESIGN §6).

``s.<subject_id>.key`` holds the subject's data key wrapped by the master key and its
commitment salt sealed by the data key; ``s.<subject_id>.d.<vault_key>`` holds one record
sealed by the data key. Erasure deletes each message of ``s.<subject_id>.>`` with the
stream's secure delete, which overwrites it on disk; a KV purge would leave a marker and a
stream purge the old bytes. So the bucket's stream is created here with deny_delete off.
"""

import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import msgspec
from nats import errors
from nats.js import JetStreamContext
from nats.js import errors as js_errors
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from careledger.contracts import PersonalData, PersonalRef
from careledger.contracts.subjects import VAULT_BUCKET
from careledger.intake.adapters import crypto
from careledger.intake.application.ports import LogUnavailable

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_decode = msgspec.json.Decoder(PersonalData)
VAULT_STREAM = f"KV_{VAULT_BUCKET}"
_NO_MESSAGE_FOUND = 10057
_OUTAGE = (
    errors.TimeoutError,
    errors.NoRespondersError,
    errors.ConnectionClosedError,
    errors.ConnectionReconnectingError,
    js_errors.ServiceUnavailableError,
)


class VaultEntryMissing(LookupError):
    """The record or the subject's key is not in the vault: erased, or never stored."""


class VaultConflict(ValueError):
    """A record id already holds different personal data; records are never overwritten."""


class VaultBucketMismatch(RuntimeError):
    """The bucket exists with settings that would keep erased bytes or lose data."""


class _SubjectKey(msgspec.Struct, frozen=True):
    wrapped_key: bytes
    sealed_salt: bytes


async def ensure_vault_bucket(js: JetStreamContext) -> KeyValue:
    """The vault bucket: file storage, one revision per key, secure delete allowed."""
    try:
        await js.key_value(VAULT_BUCKET)
    except js_errors.BucketNotFoundError:
        with suppress(js_errors.BadRequestError):  # made concurrently: checked below
            await js.add_stream(_stream_config())
    stored = (await js.stream_info(VAULT_STREAM)).config
    found = (stored.storage, stored.max_msgs_per_subject, stored.max_age or 0, stored.deny_delete)
    if found != (StorageType.FILE, 1, 0, False):
        raise VaultBucketMismatch(
            f"KV bucket {VAULT_BUCKET} has (storage, history, ttl, deny_delete) = {found}; the "
            f"vault needs {(StorageType.FILE, 1, 0, False)}. deny_delete cannot be changed: "
            "recreate the bucket deliberately (a copy of its entries); nothing was modified."
        )
    return await js.key_value(VAULT_BUCKET)


def _stream_config() -> StreamConfig:
    """What ``create_key_value`` makes, except deny_delete, which erasure needs off."""
    return StreamConfig(
        name=VAULT_STREAM,
        subjects=[f"$KV.{VAULT_BUCKET}.>"],
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=True,
        allow_direct=True,
        deny_delete=False,
        duplicate_window=120.0,
    )


class JetStreamVault:
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
        data_key, salt = await self._subject_key(_valid("subject_id", subject_id))
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
        data_key, salt = await self._subject_key(_valid("subject_id", subject_id), create=False)
        data = await self._open(subject_id, vault_key, data_key)
        if not hmac.compare_digest(crypto.commitment(salt, data), ref.commitment):
            raise crypto.VaultKeyError(f"record {vault_key} does not match its commitment")
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

    async def _subject_key(self, subject_id: str, create: bool = True) -> tuple[bytes, bytes]:
        key = f"s.{subject_id}.key"
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            if not create:
                missing = f"subject {subject_id} has no key: erased, or none stored"
                raise VaultEntryMissing(missing) from None
            data_key, salt = crypto.new_data_key(), crypto.new_salt()
            wrapped = crypto.wrap(self.master_key, data_key, subject_id)
            stored = _SubjectKey(wrapped, crypto.seal(data_key, salt, _salt_aad(subject_id)))
            try:
                await self.kv.create(key, msgspec.msgpack.encode(stored))
                return data_key, salt
            except KeyWrongLastSequenceError:  # a concurrent first store won: use its key
                entry = await self.kv.get(key)
        stored = msgspec.msgpack.decode(entry.value or b"", type=_SubjectKey)
        data_key = crypto.unwrap(self.master_key, stored.wrapped_key, subject_id)
        return data_key, crypto.open_(data_key, stored.sealed_salt, _salt_aad(subject_id))

    async def _open(self, subject_id: str, vault_key: str, data_key: bytes) -> PersonalData:
        try:
            entry = await self.kv.get(f"s.{subject_id}.d.{vault_key}")
        except KeyNotFoundError:
            missing = f"record {vault_key} of subject {subject_id} is absent: erased or not stored"
            raise VaultEntryMissing(missing) from None
        aad = crypto.record_aad(subject_id, vault_key)
        return _decode.decode(crypto.open_(data_key, entry.value or b"", aad))


@contextmanager
def _outage(what: str) -> Iterator[None]:
    try:
        yield
    except _OUTAGE as exc:
        raise LogUnavailable(f"the vault did not answer; cannot {what}: {exc!r}") from exc


def _valid(field: str, value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{field} {value!r} cannot name a vault entry: 1-64 letters, digits, '_' or '-' "
            "(a UUID or ULID)"
        )
    return value


def _salt_aad(subject_id: str) -> bytes:
    return b"careledger/vault/salt/v1\x00" + subject_id.encode()
