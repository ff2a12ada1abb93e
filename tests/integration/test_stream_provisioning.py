"""Stream provisioning: created as docs/architecture.md says, idempotent, never rewritten."""

import logging

import nats
import pytest
from nats.js.api import StorageType

from careledger.contracts.subjects import DLQ_STREAM, EVENT_STREAM
from careledger.intake.adapters.provisioning import (
    StreamMismatch,
    StreamSettings,
    ensure_streams,
    event_stream_config,
)
from careledger.stack.nats_server import NatsServer


async def test_the_streams_are_created_with_the_settings_of_the_design(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, StreamSettings())
        await ensure_streams(js, StreamSettings())  # a second start changes nothing
        events = (await js.stream_info(EVENT_STREAM)).config
        dlq = (await js.stream_info(DLQ_STREAM)).config
    finally:
        await nc.close()
    assert events.subjects == ["careledger.events.>"] and dlq.subjects == ["careledger.dlq.>"]
    assert (events.storage, events.deny_delete, events.deny_purge, events.allow_direct) == (
        StorageType.FILE,
        True,
        True,
        True,
    )
    assert events.duplicate_window == 120.0
    assert not events.max_age


async def test_an_existing_stream_that_differs_in_a_guarded_setting_stops_the_start(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        lax = event_stream_config(StreamSettings(max_age=3600))
        lax.deny_delete = False
        await js.add_stream(lax)
        with pytest.raises(StreamMismatch) as refused:
            await ensure_streams(js, StreamSettings())
        after = (await js.stream_info(EVENT_STREAM)).config
    finally:
        await nc.close()
    message = str(refused.value)
    assert "deny_delete: stream has False, CareLedger needs True" in message
    assert "max_age: stream has 3600.0" in message
    assert "nothing was modified" in message
    assert (after.deny_delete, after.max_age) == (False, 3600.0)


async def test_a_changed_duplicate_window_is_updated_and_logged(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, StreamSettings(duplicate_window=120))
        with caplog.at_level(logging.WARNING):
            await ensure_streams(js, StreamSettings(duplicate_window=30))
        window = (await js.stream_info(EVENT_STREAM)).config.duplicate_window
    finally:
        await nc.close()
    assert window == 30.0
    assert "CARELEDGER_EVENTS: duplicate_window updated from 120.0 to 30" in caplog.text
