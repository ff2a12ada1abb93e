"""Intake's Vault port on the shared personal-data vault (``careledger.vault``).

The vault's own errors become the ports' errors, so the application knows only its ports:
NATS not answering is ``LogUnavailable`` (a 503 with Retry-After, like the event log), and
other data under a stored record id is the ports' ``VaultConflict``.
"""

from careledger.contracts import PersonalData, PersonalRef
from careledger.intake.application.ports import LogUnavailable, VaultConflict
from careledger.vault import JetStreamVault, VaultUnavailable
from careledger.vault import VaultConflict as StoredOtherData


class IntakeVault:
    """The ports' Vault: a ``careledger.vault.JetStreamVault`` with the ports' errors."""

    def __init__(self, vault: JetStreamVault) -> None:
        self.vault = vault

    async def store(self, subject_id: str, record_id: str, data: PersonalData) -> PersonalRef:
        try:
            return await self.vault.store(subject_id, record_id, data)
        except VaultUnavailable as exc:
            raise LogUnavailable(str(exc)) from exc
        except StoredOtherData as exc:
            raise VaultConflict(str(exc)) from exc

    async def erase(self, subject_id: str) -> int:
        try:
            return await self.vault.erase(subject_id)
        except VaultUnavailable as exc:
            raise LogUnavailable(str(exc)) from exc
