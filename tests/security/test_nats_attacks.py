"""Attacks on the log itself, over NATS: without credentials, in plaintext, and as each
legitimate user reaching beyond its work. A denied publish or API call is dropped by the
server, so each attack also asserts that the state it aimed at is unchanged, and that the
server told the client why (a permissions violation in its error callback)."""

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from careledger.contracts import encode
from careledger.contracts.subjects import EVENT_STREAM, VAULT_BUCKET, event_subject
from careledger.runtime.streams import (
    ACCESS_STREAM,
    StreamMismatch,
    StreamSettings,
    access_stream_config,
    check_stream,
)
from careledger.stack.nats_server import NatsServer
from careledger.vault import VAULT_STREAM
from tests.support.events import contact_pair
from tests.support.nats import connect

pytestmark = pytest.mark.integration
DENIED = "permissions violation"


class Errors:
    """What the server told the client in its error callback."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def callback(self, error: Exception) -> None:
        self.seen.append(str(error))

    def denied(self, subject: str) -> bool:
        return any(DENIED in e and subject.lower() in e.lower() for e in self.seen)


@asynccontextmanager
async def as_user(server: NatsServer, user: str) -> AsyncIterator[tuple[Client, Errors]]:
    errors = Errors()
    nc = await connect(server, user, error_cb=errors.callback, allow_reconnect=False)
    try:
        yield nc, errors
    finally:
        await nc.close()


async def refused(call: Callable[[], Awaitable[Any]]) -> None:
    """A denied request gets no answer: the call times out (or is answered with an error)."""
    with pytest.raises((nats.errors.TimeoutError, nats.errors.Error, asyncio.TimeoutError)):
        await call()


async def events_stream(server: NatsServer) -> StreamConfig:
    async with as_user(server, "admin") as (nc, _):
        return (await nc.jetstream().stream_info(EVENT_STREAM)).config


async def stored(server: NatsServer) -> int:
    async with as_user(server, "admin") as (nc, _):
        return int((await nc.jetstream().stream_info(EVENT_STREAM)).state.messages)


def insecure_tls() -> ssl.SSLContext:
    """What an attacker would use: TLS without checking whom it talks to."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def test_an_anonymous_client_is_refused(nats_server: NatsServer) -> None:
    with pytest.raises(Exception) as refusal:
        await nats.connect(
            nats_server.url, tls=insecure_tls(), connect_timeout=2, allow_reconnect=False
        )
    assert "authorization" in str(refusal.value).lower()


async def test_a_plaintext_client_is_refused(nats_server: NatsServer) -> None:
    """Speaking the protocol without TLS gets no PONG: the server demands TLS first."""
    host, port = nats_server.host, nats_server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        info = await asyncio.wait_for(reader.readline(), 2)
        writer.write(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        await writer.drain()
        answer = b""
        with suppress(asyncio.TimeoutError, ConnectionError):
            while chunk := await asyncio.wait_for(reader.read(1024), 2):
                answer += chunk
    finally:
        writer.close()
    assert b'"tls_required":true' in info
    assert b"PONG" not in answer


async def test_a_client_with_a_seed_the_server_does_not_know_is_refused(
    nats_server: NatsServer, tmp_path: Any
) -> None:
    from careledger.stack.secrets import ensure_nkey

    stranger = tmp_path / "stranger.nk"
    ensure_nkey(stranger)
    options = nats_server.access("admin").connect_options() | {"nkeys_seed": str(stranger)}
    with pytest.raises(Exception) as refusal:
        await nats.connect(**options, connect_timeout=2, allow_reconnect=False)
    assert "authorization" in str(refusal.value).lower()


@pytest.mark.parametrize("user", ["intake", "ledger", "publisher", "channel"])
async def test_no_service_or_client_can_delete_the_event_stream(
    nats_server: NatsServer, user: str
) -> None:
    async with as_user(nats_server, user) as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).delete_stream(EVENT_STREAM))
    assert errors.denied(f"$JS.API.STREAM.DELETE.{EVENT_STREAM}")
    assert (await events_stream(nats_server)).name == EVENT_STREAM


@pytest.mark.parametrize("user", ["intake", "ledger", "publisher", "channel"])
async def test_no_service_or_client_can_shrink_the_event_stream(
    nats_server: NatsServer, user: str
) -> None:
    before = await events_stream(nats_server)
    shrunk = StreamConfig(
        name=EVENT_STREAM,
        subjects=before.subjects,
        storage=StorageType.FILE,
        max_msgs=10,
        deny_delete=True,
        deny_purge=True,
    )
    async with as_user(nats_server, user) as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).update_stream(shrunk))
    assert errors.denied(f"$JS.API.STREAM.UPDATE.{EVENT_STREAM}")
    assert (await events_stream(nats_server)).max_msgs in (-1, None)


@pytest.mark.parametrize("user", ["intake", "ledger"])
async def test_no_service_can_purge_the_event_stream(nats_server: NatsServer, user: str) -> None:
    async with as_user(nats_server, user) as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).purge_stream(EVENT_STREAM))
    assert errors.denied(f"$JS.API.STREAM.PURGE.{EVENT_STREAM}")


async def test_the_ledger_cannot_recreate_the_access_log_as_a_memory_stream(
    nats_server: NatsServer,
) -> None:
    async with as_user(nats_server, "ledger") as (nc, errors):
        js = nc.jetstream(timeout=1)
        await refused(lambda: js.delete_stream(ACCESS_STREAM))
        weak = StreamConfig(
            name="CARELEDGER_ACCESS_WEAK", subjects=["weak.>"], storage=StorageType.MEMORY
        )
        await refused(lambda: js.add_stream(weak))
    assert errors.denied(f"$JS.API.STREAM.DELETE.{ACCESS_STREAM}")
    async with as_user(nats_server, "admin") as (nc, _):
        info = await nc.jetstream().stream_info(ACCESS_STREAM)
        with pytest.raises(NotFoundError):
            await nc.jetstream().stream_info("CARELEDGER_ACCESS_WEAK")
    assert info.config.storage == StorageType.FILE


async def test_an_access_log_made_weak_by_hand_is_refused_by_the_ledgers_check(
    bare_nats_server: NatsServer,
) -> None:
    """Even the admin's mistake is caught: a memory access log of one message."""
    async with as_user(bare_nats_server, "admin") as (nc, _):
        weak = StreamConfig(
            name=ACCESS_STREAM,
            subjects=["careledger.access.>"],
            storage=StorageType.MEMORY,
            max_msgs=1,
        )
        await nc.jetstream().add_stream(weak)
    async with as_user(bare_nats_server, "ledger") as (nc, _):
        with pytest.raises(StreamMismatch) as refusal:
            await check_stream(nc.jetstream(), access_stream_config(StreamSettings()))
    assert "storage" in str(refusal.value) and "max_msgs" in str(refusal.value)


@pytest.mark.parametrize("user", ["channel", "publisher", "ledger"])
async def test_only_intake_writes_or_erases_the_vault(nats_server: NatsServer, user: str) -> None:
    key = f"$KV.{VAULT_BUCKET}.s.victim.key"
    async with as_user(nats_server, user) as (nc, errors):
        js = nc.jetstream(timeout=1)
        await refused(lambda: js.publish(key, b"forged", stream=VAULT_STREAM))
        await refused(lambda: js.delete_msg(VAULT_STREAM, 1))
    assert errors.denied(key) or errors.denied(f"$JS.API.STREAM.MSG.DELETE.{VAULT_STREAM}")
    async with as_user(nats_server, "admin") as (nc, _):
        assert (await nc.jetstream().stream_info(VAULT_STREAM)).state.messages == 0


@pytest.mark.parametrize("user", ["channel", "publisher"])
async def test_clients_cannot_read_the_vault(nats_server: NatsServer, user: str) -> None:
    async with as_user(nats_server, "intake") as (nc, _):
        kv = await nc.jetstream().key_value(VAULT_BUCKET)
        await kv.create("s.victim.d.record", b"sealed personal data")
    async with as_user(nats_server, user) as (nc, errors):
        js = nc.jetstream(timeout=1)
        await refused(lambda: js.get_msg(VAULT_STREAM, 1, direct=True))
        await refused(lambda: js.get_msg(VAULT_STREAM, 1))
    assert errors.denied(f"$JS.API.DIRECT.GET.{VAULT_STREAM}")


@pytest.mark.parametrize("user", ["channel", "publisher", "ledger"])
async def test_nobody_but_intake_reads_commands_in_transit(
    nats_server: NatsServer, user: str
) -> None:
    async with as_user(nats_server, user) as (nc, errors):
        seen: list[bytes] = []

        async def keep(msg: Any) -> None:
            seen.append(msg.data)

        await nc.subscribe("careledger.intake.>", cb=keep)
        await nc.flush()
        async with as_user(nats_server, "channel") as (sender, _):
            await sender.publish("careledger.intake.open-contact", b'{"personal":"secret"}')
            await sender.flush()
        await asyncio.sleep(0.3)
    assert seen == []
    assert errors.denied("careledger.intake.>")


async def test_a_client_cannot_join_intakes_queue_group_to_answer_in_its_place(
    nats_server: NatsServer,
) -> None:
    async with as_user(nats_server, "channel") as (nc, errors):
        seen: list[bytes] = []

        async def answer(msg: Any) -> None:
            seen.append(msg.data)

        await nc.subscribe("careledger.intake.>", queue="careledger-intake", cb=answer)
        await nc.flush()
        async with as_user(nats_server, "channel") as (sender, _):
            await sender.publish("careledger.intake.erase-subject", b"{}")
            await sender.flush()
        await asyncio.sleep(0.3)
    assert seen == []
    assert errors.denied("careledger.intake.>")


async def test_a_channel_cannot_publish_events_directly(nats_server: NatsServer) -> None:
    before = await stored(nats_server)
    opened, _ = contact_pair()
    async with as_user(nats_server, "channel") as (nc, errors):
        js = nc.jetstream(timeout=1)
        await refused(
            lambda: js.publish(event_subject(opened), encode(opened), stream=EVENT_STREAM)
        )
    assert errors.denied(event_subject(opened))
    assert await stored(nats_server) == before


async def test_a_publisher_cannot_subscribe_to_events_or_use_the_stream_api(
    nats_server: NatsServer,
) -> None:
    async with as_user(nats_server, "publisher") as (nc, errors):
        seen: list[bytes] = []

        async def keep(msg: Any) -> None:
            seen.append(msg.data)

        await nc.subscribe("careledger.events.>", cb=keep)
        await nc.flush()
        await refused(lambda: nc.jetstream(timeout=1).stream_info(EVENT_STREAM))
        opened, _ = contact_pair()
        async with as_user(nats_server, "publisher") as (other, _):
            await other.jetstream().publish(
                event_subject(opened), encode(opened), stream=EVENT_STREAM
            )
        await asyncio.sleep(0.3)
    assert seen == []
    assert errors.denied("careledger.events.>")
    assert errors.denied(f"$JS.API.STREAM.INFO.{EVENT_STREAM}")


async def test_one_client_cannot_read_another_clients_replies(
    bare_nats_server: NatsServer, tmp_path: Any
) -> None:
    server = NatsServer(tmp_path / "two", channels=("channel", "rival")).start()
    try:
        async with as_user(server, "rival") as (rival, errors):
            seen: list[bytes] = []

            async def keep(msg: Any) -> None:
                seen.append(msg.data)

            await rival.subscribe("_INBOX_channel.>", cb=keep)
            await rival.subscribe("_INBOX.>", cb=keep)
            await rival.flush()
            async with as_user(server, "channel") as (nc, _):
                mine = await nc.subscribe("_INBOX_channel.reply")
                await nc.flush()
                async with as_user(server, "admin") as (replier, _):  # as intake would answer
                    await replier.publish("_INBOX_channel.reply", b"my reply")
                    await replier.flush()
                received = await mine.next_msg(timeout=2)
            await asyncio.sleep(0.3)
        assert received.data == b"my reply"  # the owner reads its own inbox
        assert seen == []
        assert errors.denied("_INBOX_channel.>")
    finally:
        server.stop()


async def test_the_ledger_cannot_publish_events(nats_server: NatsServer) -> None:
    before = await stored(nats_server)
    opened, _ = contact_pair()
    async with as_user(nats_server, "ledger") as (nc, errors):
        with suppress(Exception):
            await nc.publish(event_subject(opened), encode(opened))
            await nc.flush()
        await asyncio.sleep(0.3)
    assert errors.denied(event_subject(opened))
    assert await stored(nats_server) == before


async def test_a_channel_without_the_grant_cannot_send_an_erasure_over_nats(
    nats_server: NatsServer,
) -> None:
    async with as_user(nats_server, "kiosk") as (nc, errors):
        await refused(lambda: nc.request("careledger.intake.erase-subject", b"{}", timeout=1))
    assert errors.denied("careledger.intake.erase-subject")
