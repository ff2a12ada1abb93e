"""An erasure that lands while another request is deciding still erases its personal data."""

import os
import uuid

import pytest

from careledger.contracts import PersonalData, PersonalRef, decode_command, encode
from careledger.contracts.commands import EraseSubject, OpenContact
from careledger.intake.adapters.event_log import JetStreamEventLog
from careledger.intake.adapters.vault import IntakeVault
from careledger.intake.application.intake import Intake
from careledger.stack.nats_server import NatsServer
from careledger.vault import JetStreamVault, VaultEntryMissing, open_vault_bucket
from tests.support.nats import connect
from tests.support.scenario import Story


class ErasedJustBeforeStore(IntakeVault):
    """The vault, with a concurrent EraseSubject completing after our decision and before
    our personal data is stored: the erasure cannot have seen it."""

    eraser: Intake | None = None

    async def store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        if self.eraser is not None:
            eraser, self.eraser = self.eraser, None
            erase = dict(Story(subject_id=subject_id).commands())["erase-subject"]
            await eraser.handle(decode_command(encode(erase), EraseSubject), "erase-key-1")
        return await super().store(subject_id, record_id, data)


async def test_personal_data_stored_by_a_request_racing_an_erasure_is_erased_too(
    nats_server: NatsServer,
) -> None:
    nc = await connect(nats_server, "intake")
    try:
        kv, key = await open_vault_bucket(nc.jetstream()), os.urandom(32)
        racing = ErasedJustBeforeStore(JetStreamVault(kv, key))
        racing.eraser = Intake(JetStreamEventLog(nc), IntakeVault(JetStreamVault(kv, key)))
        story = Story()
        command = decode_command(encode(dict(story.commands())["open-contact"]), OpenContact)

        accepted = await Intake(JetStreamEventLog(nc), racing).handle(command, str(uuid.uuid4()))

        history = await JetStreamEventLog(nc).history("contact", story.contact_id)
        ref = history.events[0].event.personal
        assert accepted.type == "ContactOpened" and ref is not None
        with pytest.raises(VaultEntryMissing):
            await racing.vault.reveal(story.subject_id, ref)
    finally:
        await nc.close()
