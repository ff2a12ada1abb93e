"""Attacks on the signed checkpoints, over NATS: a checkpoint someone kept is only worth
something if nobody can forge one onto the stream, and nobody can remove, purge or replace
the ones published. Only the ledger publishes on ``careledger.checkpoints``; no running
service may delete, purge or change ``CARELEDGER_CHECKPOINTS``, and the stream itself
refuses deletes and purges even from the admin. Each attack asserts the server's refusal
for the exact subject and that the checkpoints are as they were."""

import nats.errors
import pytest
from nats.js.api import StorageType, StreamConfig

from careledger.runtime.streams import CHECKPOINT_STREAM, CHECKPOINT_SUBJECT
from careledger.stack.nats_server import NatsServer
from tests.security.test_nats_attacks import as_user, refused

pytestmark = pytest.mark.integration
CHECKPOINT = b"careledger.test/ledger\n2\nq6WqE2aoaMF2YNkaEh2YEdTF8NI4BWKDoSkXpf1j3rA=\n"


async def published(server: NatsServer, count: int = 1) -> list[bytes]:
    """``count`` checkpoints published by the ledger, as it publishes them (PubAck awaited);
    every checkpoint the stream then holds, read as the admin."""
    async with as_user(server, "ledger") as (nc, _):
        js = nc.jetstream(timeout=2)
        for n in range(count):
            ack = await js.publish(
                CHECKPOINT_SUBJECT, CHECKPOINT + b"%d" % n, stream=CHECKPOINT_STREAM
            )
            assert ack.stream == CHECKPOINT_STREAM
    return await checkpoints(server)


async def checkpoints(server: NatsServer) -> list[bytes]:
    async with as_user(server, "admin") as (nc, _):
        js = nc.jetstream()
        info = await js.stream_info(CHECKPOINT_STREAM)
        if not info.state.messages:
            return []
        first, last = info.state.first_seq, info.state.last_seq
        return [
            (await js.get_msg(CHECKPOINT_STREAM, seq)).data or b"" for seq in range(first, last + 1)
        ]


async def config(server: NatsServer) -> StreamConfig:
    async with as_user(server, "admin") as (nc, _):
        return (await nc.jetstream().stream_info(CHECKPOINT_STREAM)).config


async def test_the_ledger_publishes_checkpoints_and_a_new_one_never_replaces_an_old_one(
    nats_server: NatsServer,
) -> None:
    """The grants the attacks below leave: the ledger's own publish, with its PubAck, and
    reading back its last checkpoint (so that a restart does not send it twice)."""
    kept = await published(nats_server, count=3)
    async with as_user(nats_server, "ledger") as (nc, _):
        last = await nc.jetstream(timeout=2).get_last_msg(CHECKPOINT_STREAM, CHECKPOINT_SUBJECT)
    assert kept == [CHECKPOINT + b"0", CHECKPOINT + b"1", CHECKPOINT + b"2"]
    assert last.data == CHECKPOINT + b"2"


@pytest.mark.parametrize("user", ["channel", "intake", "publisher"])
async def test_nobody_but_the_ledger_can_publish_a_checkpoint(
    nats_server: NatsServer, user: str
) -> None:
    before = await published(nats_server)
    async with as_user(nats_server, user) as (nc, errors):
        js = nc.jetstream(timeout=1)
        forged = b"careledger.test/ledger\n1\nforged-root\n"
        await refused(lambda: js.publish(CHECKPOINT_SUBJECT, forged, stream=CHECKPOINT_STREAM))
    assert errors.denied(CHECKPOINT_SUBJECT)
    assert await checkpoints(nats_server) == before


async def test_the_ledger_cannot_delete_a_checkpoint(nats_server: NatsServer) -> None:
    before = await published(nats_server, count=2)
    async with as_user(nats_server, "ledger") as (nc, errors):
        js = nc.jetstream(timeout=1)
        await refused(lambda: js.delete_msg(CHECKPOINT_STREAM, 1))
    assert errors.denied(f"$JS.API.STREAM.MSG.DELETE.{CHECKPOINT_STREAM}")
    assert await checkpoints(nats_server) == before


async def test_the_ledger_cannot_purge_the_checkpoints(nats_server: NatsServer) -> None:
    before = await published(nats_server, count=2)
    async with as_user(nats_server, "ledger") as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).purge_stream(CHECKPOINT_STREAM))
    assert errors.denied(f"$JS.API.STREAM.PURGE.{CHECKPOINT_STREAM}")
    assert await checkpoints(nats_server) == before


async def test_the_ledger_cannot_delete_the_checkpoint_stream(nats_server: NatsServer) -> None:
    before = await published(nats_server)
    async with as_user(nats_server, "ledger") as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).delete_stream(CHECKPOINT_STREAM))
    assert errors.denied(f"$JS.API.STREAM.DELETE.{CHECKPOINT_STREAM}")
    assert await checkpoints(nats_server) == before


@pytest.mark.parametrize(
    "change",
    [
        {"max_msgs": 1},
        {"max_msgs_per_subject": 1},  # every checkpoint has the one subject: keep only the last
        {"max_age": 1.0},
        {"storage": StorageType.MEMORY},
    ],
    ids=lambda change: next(iter(change)),
)
async def test_the_ledger_cannot_change_the_checkpoint_streams_config(
    nats_server: NatsServer, change: dict[str, object]
) -> None:
    before = await config(nats_server)
    weakened = StreamConfig.from_response(before.as_dict() | change)
    async with as_user(nats_server, "ledger") as (nc, errors):
        await refused(lambda: nc.jetstream(timeout=1).update_stream(weakened))
    assert errors.denied(f"$JS.API.STREAM.UPDATE.{CHECKPOINT_STREAM}")
    assert await config(nats_server) == before


async def test_the_ledger_cannot_roll_up_the_checkpoints_into_its_last_one(
    nats_server: NatsServer,
) -> None:
    """A ``Nats-Rollup`` header on a publish the ledger may make would purge the subject: the
    stream, which denies purges, refuses roll-ups."""
    before = await published(nats_server, count=2)
    async with as_user(nats_server, "ledger") as (nc, _):
        js = nc.jetstream(timeout=1)
        with pytest.raises(nats.js.errors.APIError) as refusal:
            await js.publish(
                CHECKPOINT_SUBJECT,
                CHECKPOINT + b"rollup",
                stream=CHECKPOINT_STREAM,
                headers={"Nats-Rollup": "sub"},
            )
    assert refusal.value.description == "rollup not permitted"
    assert await checkpoints(nats_server) == before


async def test_even_the_admin_cannot_delete_or_purge_a_checkpoint(nats_server: NatsServer) -> None:
    """The admin may provision but not rewrite history: the stream denies delete and purge
    whoever asks (the flags cannot be turned off once the stream exists)."""
    before = await published(nats_server, count=2)
    async with as_user(nats_server, "admin") as (nc, _):
        js = nc.jetstream(timeout=2)
        with pytest.raises(nats.js.errors.APIError) as deleted:
            await js.delete_msg(CHECKPOINT_STREAM, 1)
        with pytest.raises(nats.js.errors.APIError) as purged:
            await js.purge_stream(CHECKPOINT_STREAM)
    assert deleted.value.description == "message delete not permitted"
    assert purged.value.description == "stream purge not permitted"
    assert await checkpoints(nats_server) == before
