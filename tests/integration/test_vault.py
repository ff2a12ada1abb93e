"""The personal-data vault against a real nats-server: encrypted at rest, erasable for good."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass

import pytest
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from careledger.contracts import PersonalData, PersonalRef
from careledger.contracts.subjects import VAULT_BUCKET
from careledger.stack.nats_server import NatsServer
from careledger.vault import (
    JetStreamVault,
    VaultBucketMismatch,
    VaultConflict,
    VaultEntryMissing,
    VaultKeyError,
    VaultUnavailable,
    open_vault_bucket,
    provision_vault_bucket,
)
from tests.support.nats import connect

STREAM = f"KV_{VAULT_BUCKET}"
DATA = PersonalData(
    name="Zoë Quintanilla-Ybarra",
    email="zoe.quintanilla@example.org",
    phone="+34 600 111 222",
    address="Calle Falsa 123, Madrid",
    text="My router burnt out twice and nobody called me back.",
)
PLAINTEXTS = [DATA.name, DATA.email, DATA.phone, DATA.address, DATA.text, "Quintanilla", "Falsa"]


@dataclass
class Bucket:
    js: JetStreamContext
    kv: KeyValue
    master_key: bytes

    def vault(self, master_key: bytes | None = None) -> JetStreamVault:
        return JetStreamVault(self.kv, master_key or self.master_key)

    async def messages(self) -> list[tuple[int, str, bytes]]:
        """(sequence, subject, raw bytes of headers and data) of every message still stored."""
        info = await self.js.stream_info(STREAM)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await self.js.get_msg(STREAM, seq)
            except NotFoundError:
                continue  # purged
            headers = "".join(f"{k}: {v}\n" for k, v in (msg.headers or {}).items()).encode()
            found.append((seq, msg.subject or "", headers + (msg.data or b"")))
        return found

    async def subjects_of(self, subject_id: str) -> dict[str, int]:
        info = await self.js.stream_info(
            STREAM, subjects_filter=f"$KV.{VAULT_BUCKET}.s.{subject_id}.>"
        )
        return info.state.subjects or {}


@pytest.fixture
async def bucket(nats_server: NatsServer) -> AsyncIterator[Bucket]:
    """The provisioned bucket, opened as intake opens it (the vault's only writer)."""
    nc = await connect(nats_server, "intake")
    try:
        js = nc.jetstream()
        yield Bucket(js, await open_vault_bucket(js), os.urandom(32))
    finally:
        await nc.close()


def new_id() -> str:
    return str(uuid.uuid4())


async def test_stored_personal_data_is_revealed_unchanged(bucket: Bucket) -> None:
    subject = new_id()
    ref = await bucket.vault().store(subject, new_id(), DATA)
    assert await bucket.vault().reveal(subject, ref) == DATA


async def test_revealing_with_another_master_key_raises_vault_key_error(bucket: Bucket) -> None:
    subject = new_id()
    ref = await bucket.vault().store(subject, new_id(), DATA)
    with pytest.raises(VaultKeyError, match="master key"):
        await bucket.vault(os.urandom(32)).reveal(subject, ref)


async def test_no_message_in_the_vault_stream_contains_any_plaintext(bucket: Bucket) -> None:
    for _ in range(3):
        await bucket.vault().store(new_id(), new_id(), DATA)
    everything = b"".join(subject.encode() + raw for _, subject, raw in await bucket.messages())
    assert everything
    for plaintext in PLAINTEXTS:
        assert plaintext is not None and plaintext.encode() not in everything, plaintext


async def test_the_same_data_commits_to_different_values_for_different_subjects(
    bucket: Bucket,
) -> None:
    first = await bucket.vault().store(new_id(), new_id(), DATA)
    second = await bucket.vault().store(new_id(), new_id(), DATA)
    assert first.commitment != second.commitment


async def test_erasure_removes_data_key_and_salt_and_leaves_no_message_of_the_subject(
    bucket: Bucket,
) -> None:
    erased, kept = new_id(), new_id()
    refs = [await bucket.vault().store(erased, new_id(), DATA) for _ in range(2)]
    kept_ref = await bucket.vault().store(kept, new_id(), DATA)

    assert await bucket.vault().erase(erased) == 3  # two records and the key entry
    for ref in refs:
        with pytest.raises(VaultEntryMissing, match=erased):
            await bucket.vault().reveal(erased, ref)
    assert await bucket.subjects_of(erased) == {}
    assert all(erased not in subject for _, subject, _ in await bucket.messages())
    assert await bucket.vault().reveal(kept, kept_ref) == DATA
    assert await bucket.vault().erase(erased) == 0


async def test_after_erasure_a_new_store_uses_a_new_key_and_salt(bucket: Bucket) -> None:
    subject, record = new_id(), new_id()
    before = await bucket.vault().store(subject, record, DATA)
    await bucket.vault().erase(subject)
    after = await bucket.vault().store(subject, record, DATA)
    assert before.vault_key == after.vault_key and before.commitment != after.commitment
    assert await bucket.vault().reveal(subject, after) == DATA


async def test_storing_the_same_record_twice_returns_an_equal_ref_and_writes_nothing(
    bucket: Bucket,
) -> None:
    subject, record = new_id(), new_id()
    first = await bucket.vault().store(subject, record, DATA)
    last_seq = (await bucket.js.stream_info(STREAM)).state.last_seq
    second = await bucket.vault().store(subject, record, DATA)
    assert first == second == PersonalRef(vault_key=record, commitment=first.commitment)
    assert (await bucket.js.stream_info(STREAM)).state.last_seq == last_seq
    assert len(await bucket.subjects_of(subject)) == 2


async def test_storing_other_data_under_a_stored_record_is_a_conflict(bucket: Bucket) -> None:
    subject, record = new_id(), new_id()
    ref = await bucket.vault().store(subject, record, DATA)
    with pytest.raises(VaultConflict, match=record):
        await bucket.vault().store(subject, record, PersonalData(name="Somebody Else"))
    assert await bucket.vault().reveal(subject, ref) == DATA


async def test_concurrent_first_stores_for_a_new_subject_end_with_one_key(bucket: Bucket) -> None:
    subject, records = new_id(), [new_id() for _ in range(8)]
    refs = await asyncio.gather(*(bucket.vault().store(subject, r, DATA) for r in records))
    info = (await bucket.js.stream_info(STREAM)).state
    assert info.messages == info.last_seq == 9  # one key entry, never replaced, and 8 records
    assert len({ref.commitment for ref in refs}) == 1  # one salt
    for ref in refs:
        assert await bucket.vault().reveal(subject, ref) == DATA


async def test_a_record_moved_to_another_subject_does_not_open(bucket: Bucket) -> None:
    subject, record = new_id(), new_id()
    ref = await bucket.vault().store(subject, record, DATA)
    with pytest.raises(VaultEntryMissing):
        await bucket.vault().reveal(new_id(), ref)
    other = await bucket.vault().store(subject, new_id(), PersonalData(name="Other"))
    moved = await bucket.kv.get(f"s.{subject}.d.{record}")
    await bucket.kv.put(f"s.{subject}.d.{other.vault_key}", moved.value or b"")
    with pytest.raises(VaultKeyError):
        await bucket.vault().reveal(subject, other)


async def test_revealing_an_unknown_record_raises_vault_entry_missing(bucket: Bucket) -> None:
    subject = new_id()
    await bucket.vault().store(subject, new_id(), DATA)
    missing = PersonalRef(vault_key=new_id(), commitment="0" * 64)
    with pytest.raises(VaultEntryMissing, match=missing.vault_key):
        await bucket.vault().reveal(subject, missing)


async def test_ids_that_cannot_name_a_kv_key_are_refused(bucket: Bucket) -> None:
    with pytest.raises(ValueError, match="subject_id"):
        await bucket.vault().store("a.b", new_id(), DATA)
    with pytest.raises(ValueError, match="record_id"):
        await bucket.vault().store(new_id(), "*", DATA)


async def test_provisioning_the_bucket_again_keeps_file_storage_and_one_revision(
    bucket: Bucket, nats_server: NatsServer
) -> None:
    await bucket.vault().store(new_id(), new_id(), DATA)
    before = await bucket.messages()
    admin = await connect(nats_server)
    try:
        again = await provision_vault_bucket(admin.jetstream())
        config = (await again.status()).stream_info.config
    finally:
        await admin.close()
    assert before and await bucket.messages() == before  # what was stored stays
    assert (config.storage, config.max_msgs_per_subject) == (StorageType.FILE, 1)


@pytest.mark.parametrize(
    "config",
    [
        KeyValueConfig(bucket=VAULT_BUCKET, history=5, storage=StorageType.FILE),
        KeyValueConfig(bucket=VAULT_BUCKET, history=1, storage=StorageType.FILE),  # deny_delete
    ],
)
async def test_a_bucket_that_would_keep_erased_bytes_is_refused(
    bare_nats_server: NatsServer, config: KeyValueConfig
) -> None:
    """By the admin's provisioning, and by every service that opens it."""
    admin = await connect(bare_nats_server)
    try:
        js = admin.jetstream()
        await js.create_key_value(config)
        with pytest.raises(VaultBucketMismatch, match="nothing was modified"):
            await provision_vault_bucket(js)
        for user in ("intake", "ledger"):
            service = await connect(bare_nats_server, user)
            try:
                with pytest.raises(VaultBucketMismatch, match="nothing was modified"):
                    await open_vault_bucket(service.jetstream())
            finally:
                await service.close()
        after = (await js.stream_info(STREAM)).config
    finally:
        await admin.close()
    assert (after.max_msgs_per_subject, after.deny_delete) == (config.history, True)


async def test_erased_bytes_are_overwritten_in_the_server_files(
    bucket: Bucket, nats_server: NatsServer
) -> None:
    erased, kept = new_id(), new_id()
    await bucket.vault().store(erased, new_id(), DATA)
    wrapped_key = (await bucket.kv.get(f"s.{erased}.key")).value or b""
    await bucket.vault().store(kept, new_id(), DATA)
    assert wrapped_key and any(wrapped_key in f for f in stored_files(nats_server))

    await bucket.vault().erase(erased)
    files = stored_files(nats_server)
    assert not any(wrapped_key in f or erased.encode() in f for f in files)
    assert any(kept.encode() in f for f in files)


async def test_concurrent_erasures_erase_each_entry_once(bucket: Bucket) -> None:
    subject = new_id()
    for _ in range(3):
        await bucket.vault().store(subject, new_id(), DATA)
    counts = await asyncio.gather(*(bucket.vault().erase(subject) for _ in range(4)))
    assert sum(counts) == 4 and await bucket.subjects_of(subject) == {}


def stored_files(server: NatsServer) -> list[bytes]:
    return [p.read_bytes() for p in server.store_dir.rglob("*") if p.is_file()]


async def test_a_vault_that_does_not_answer_raises_vault_unavailable(
    nats_server: NatsServer,
) -> None:
    nc = await connect(nats_server, "intake", max_reconnect_attempts=-1)
    try:
        js = nc.jetstream(timeout=0.5)
        vault = JetStreamVault(await open_vault_bucket(js), os.urandom(32))
        nats_server.stop()
        with pytest.raises(VaultUnavailable, match="the vault did not answer"):
            await vault.store(new_id(), new_id(), DATA)
        with pytest.raises(VaultUnavailable):
            await vault.erase(new_id())
        with pytest.raises(VaultUnavailable):
            await vault.reveal(new_id(), PersonalRef(vault_key=new_id(), commitment="0" * 64))
    finally:
        # nats-py flushes to the dead socket on close; over TLS the transport is already gone
        with suppress(ConnectionResetError, AttributeError):
            await nc.close()
