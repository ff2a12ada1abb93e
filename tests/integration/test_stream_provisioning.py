"""The streams and the vault bucket: made by the admin's provisioning as docs/architecture.md
says, idempotent, never rewritten in a guarded setting; checked by each service at start with
its own credentials, which refuses a missing or drifted stream and never creates or changes one."""

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import DLQ_STREAM, EVENT_STREAM
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.entrypoints.admin import provision
from careledger.ledger.settings import Settings
from careledger.runtime.streams import (
    ACCESS_STREAM,
    CHECKPOINT_STREAM,
    DAY,
    StreamMismatch,
    StreamMissing,
    StreamSettings,
    access_stream_config,
    check_stream,
    checkpoint_stream_config,
    dlq_stream_config,
    event_stream_config,
)
from careledger.stack.nats_server import NatsServer
from careledger.vault import VAULT_STREAM, VaultBucketMismatch, open_vault_bucket
from tests.support.nats import connect, provisioned, service_settings
from tests.support.principals import Principals

ConfigOf = Callable[[StreamSettings], StreamConfig]
CHECKS: list[tuple[str, ConfigOf]] = [
    ("intake", event_stream_config),
    ("ledger", event_stream_config),
    ("ledger", dlq_stream_config),
    ("ledger", access_stream_config),
    ("ledger", checkpoint_stream_config),
]


async def configs(server: NatsServer, *streams: str) -> list[StreamConfig]:
    nc = await connect(server)
    try:
        js = nc.jetstream()
        return [(await js.stream_info(stream)).config for stream in streams]
    finally:
        await nc.close()


async def add_as_admin(server: NatsServer, config: StreamConfig) -> None:
    nc = await connect(server)
    try:
        await nc.jetstream().add_stream(config)
    finally:
        await nc.close()


def careledger_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("careledger") and r.levelno >= logging.WARNING
    ]


def lax_events() -> StreamConfig:
    lax = event_stream_config(StreamSettings(max_age=3600))
    lax.deny_delete = False
    return lax


async def test_provisioning_makes_the_streams_and_the_bucket_with_the_settings_of_the_design(
    bare_nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    made = await provision(bare_nats_server.access("admin"), StreamSettings())
    names = (EVENT_STREAM, DLQ_STREAM, ACCESS_STREAM, CHECKPOINT_STREAM, VAULT_STREAM)
    first = await configs(bare_nats_server, *names)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await provisioned(bare_nats_server)  # a second run changes nothing
    events, dlq, access, checkpoints, vault = await configs(bare_nats_server, *names)

    assert made == [EVENT_STREAM, DLQ_STREAM, ACCESS_STREAM, CHECKPOINT_STREAM, "vault bucket"]
    assert [events, dlq, access, checkpoints, vault] == first
    assert not careledger_warnings(caplog)
    assert events.subjects == ["careledger.events.>"] and dlq.subjects == ["careledger.dlq.>"]
    assert access.subjects == ["careledger.access.>"]
    assert checkpoints.subjects == ["careledger.checkpoints"]
    for stream in (events, dlq, access, checkpoints):
        assert (stream.storage, stream.deny_delete, stream.deny_purge, stream.allow_direct) == (
            StorageType.FILE,
            True,
            True,
            True,
        )
    assert events.duplicate_window == 120.0
    assert not events.max_age and not access.max_age and not checkpoints.max_age
    assert dlq.max_age == 30 * DAY  # invalid messages are kept for inspection, not forever
    assert (vault.storage, vault.max_msgs_per_subject, vault.deny_delete) == (
        StorageType.FILE,
        1,
        False,
    )


async def test_provisioning_refuses_a_stream_that_differs_in_a_guarded_setting(
    bare_nats_server: NatsServer,
) -> None:
    await add_as_admin(bare_nats_server, lax_events())
    with pytest.raises(StreamMismatch) as refused:
        await provisioned(bare_nats_server)
    [after] = await configs(bare_nats_server, EVENT_STREAM)

    message = str(refused.value)
    assert "deny_delete: stream has False, CareLedger needs True" in message
    assert "max_age: stream has 3600.0" in message
    assert "nothing was modified" in message
    assert (after.deny_delete, after.max_age) == (False, 3600.0)


async def test_provisioning_updates_a_changed_duplicate_window_and_logs_it(
    bare_nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    await provisioned(bare_nats_server, StreamSettings(duplicate_window=120))
    with caplog.at_level(logging.WARNING):
        await provisioned(bare_nats_server, StreamSettings(duplicate_window=30))
    [events] = await configs(bare_nats_server, EVENT_STREAM)

    assert events.duplicate_window == 30.0
    assert "CARELEDGER_EVENTS: duplicate_window updated from 120.0 to 30" in caplog.text


@pytest.mark.parametrize(("user", "config_of"), CHECKS)
async def test_a_service_refuses_a_stream_nobody_provisioned_and_creates_none(
    bare_nats_server: NatsServer, user: str, config_of: ConfigOf
) -> None:
    wanted = config_of(StreamSettings())
    nc = await connect(bare_nats_server, user)
    try:
        with pytest.raises(StreamMissing, match="run `careledger admin provision`"):
            await check_stream(nc.jetstream(), wanted)
    finally:
        await nc.close()
    with pytest.raises(NotFoundError):
        await configs(bare_nats_server, str(wanted.name))


@pytest.mark.parametrize(("user", "config_of"), CHECKS)
async def test_a_service_refuses_a_stream_that_drifted_naming_each_difference(
    bare_nats_server: NatsServer, user: str, config_of: ConfigOf
) -> None:
    drifted = config_of(StreamSettings())
    drifted.deny_purge, drifted.max_msgs = False, 10
    await add_as_admin(bare_nats_server, drifted)
    nc = await connect(bare_nats_server, user)
    try:
        with pytest.raises(StreamMismatch) as refused:
            await check_stream(nc.jetstream(), config_of(StreamSettings()))
    finally:
        await nc.close()
    [after] = await configs(bare_nats_server, str(drifted.name))

    message = str(refused.value)
    assert "deny_purge: stream has False, CareLedger needs True" in message
    assert "max_msgs: stream has 10, CareLedger needs -1" in message
    assert "nothing was modified" in message
    assert (after.deny_purge, after.max_msgs) == (False, 10)


async def test_a_service_only_warns_of_a_changed_duplicate_window_and_leaves_it_alone(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    nc = await connect(nats_server, "intake")
    try:
        with caplog.at_level(logging.WARNING):
            await check_stream(
                nc.jetstream(), event_stream_config(StreamSettings(duplicate_window=30))
            )
    finally:
        await nc.close()
    [events] = await configs(nats_server, EVENT_STREAM)

    assert events.duplicate_window == 120.0
    assert "duplicate_window is 120.0, CareLedger is configured for 30" in caplog.text
    assert "`careledger admin provision` would update it" in caplog.text


async def test_a_memory_access_log_made_before_provisioning_stops_the_ledger(
    bare_nats_server: NatsServer, principals: Principals, tmp_path: Path
) -> None:
    weak = StreamConfig(
        name=ACCESS_STREAM,
        subjects=["careledger.access.>"],
        storage=StorageType.MEMORY,
        max_msgs=1,
    )
    await add_as_admin(bare_nats_server, weak)
    with pytest.raises(StreamMismatch, match="storage: stream has"):
        await provisioned(bare_nats_server)  # the admin's step refuses it too
    settings = Settings(
        **service_settings(bare_nats_server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        auditors_file=principals.auditors_file,
        checkpoint_key_file=principals.checkpoint_key_file,
    )
    ledger = LedgerService(settings, {})
    try:
        with pytest.raises(StreamMismatch) as refused:
            await ledger.start()
    finally:
        await ledger.stop()
    [after] = await configs(bare_nats_server, ACCESS_STREAM)

    message = str(refused.value)
    assert f"stream {ACCESS_STREAM} exists with settings" in message
    assert "storage: stream has 'memory'" in message
    assert "max_msgs: stream has 1, CareLedger needs -1" in message
    assert (after.storage, after.max_msgs) == (StorageType.MEMORY, 1)
    assert ledger.store is None  # it stopped before opening its file


@pytest.mark.parametrize("user", ["intake", "ledger"])
async def test_a_service_refuses_a_vault_bucket_nobody_provisioned_and_creates_none(
    bare_nats_server: NatsServer, user: str
) -> None:
    nc = await connect(bare_nats_server, user)
    try:
        with pytest.raises(VaultBucketMismatch, match="does not exist"):
            await open_vault_bucket(nc.jetstream())
    finally:
        await nc.close()
    with pytest.raises(NotFoundError):
        await configs(bare_nats_server, VAULT_STREAM)
