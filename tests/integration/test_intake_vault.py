"""Intake's Vault port on the shared vault: the vault's errors arrive as the ports' errors."""

import os
import uuid
from contextlib import suppress

import pytest

from careledger.contracts import PersonalData
from careledger.intake.adapters.vault import IntakeVault
from careledger.intake.application.ports import LogUnavailable, VaultConflict
from careledger.stack.nats_server import NatsServer
from careledger.vault import JetStreamVault, open_vault_bucket
from tests.support.nats import connect

DATA = PersonalData(name="Zoë Quintanilla-Ybarra", text="My router burnt out twice.")


def new_id() -> str:
    return str(uuid.uuid4())


async def test_other_data_under_a_stored_record_is_the_ports_vault_conflict(
    nats_server: NatsServer,
) -> None:
    nc = await connect(nats_server, "intake")
    try:
        vault = IntakeVault(JetStreamVault(await open_vault_bucket(nc.jetstream()), b"k" * 32))
        subject, record = new_id(), new_id()
        ref = await vault.store(subject, record, DATA)
        assert await vault.store(subject, record, DATA) == ref
        with pytest.raises(VaultConflict, match=record):
            await vault.store(subject, record, PersonalData(name="Somebody Else"))
        assert await vault.erase(subject) == 2
    finally:
        await nc.close()


async def test_a_vault_that_does_not_answer_raises_log_unavailable(
    nats_server: NatsServer,
) -> None:
    nc = await connect(nats_server, "intake", max_reconnect_attempts=-1)
    try:
        js = nc.jetstream(timeout=0.5)
        vault = IntakeVault(JetStreamVault(await open_vault_bucket(js), os.urandom(32)))
        nats_server.stop()
        with pytest.raises(LogUnavailable, match="the vault did not answer"):
            await vault.store(new_id(), new_id(), DATA)
        with pytest.raises(LogUnavailable, match="the vault did not answer"):
            await vault.erase(new_id())
    finally:
        # nats-py flushes to the dead socket on close; over TLS the transport is already gone
        with suppress(ConnectionResetError, AttributeError):
            await nc.close()
