"""Intake's Vault port on the shared personal-data vault (``careledger.vault``).

The vault's own errors become the ports' errors, so the application knows only its ports:
NATS not answering is ``LogUnavailable`` (a 503 with Retry-After, like the event log), and
other data under a stored record id is the ports' ``VaultConflict``.
"""

import hmac

from careledger.contracts import PersonalData, PersonalRef
from careledger.intake.application.ports import LogUnavailable, VaultConflict
from careledger.vault import JetStreamVault, VaultUnavailable, crypto
from careledger.vault import VaultConflict as StoredOtherData
from careledger.vault.keys import existing_keys
from careledger.vault.outage import unavailable


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

    async def holds(self, subject_id: str, ref: PersonalRef, data: PersonalData) -> bool | None:
        """Compares commitments, under the subject's salt: nothing is decrypted or revealed."""
        vault = self.vault
        try:
            with unavailable(f"the vault did not answer; cannot compare with {ref.vault_key}"):
                keys = await existing_keys(vault.kv, vault.master_key, subject_id)
        except VaultUnavailable as exc:
            raise LogUnavailable(str(exc)) from exc
        if keys is None:  # erased: nothing left to compare with
            return None
        _, salt = keys
        return hmac.compare_digest(crypto.commitment(salt, data), ref.commitment)

    async def erase(self, subject_id: str) -> int:
        try:
            return await self.vault.erase(subject_id)
        except VaultUnavailable as exc:
            raise LogUnavailable(str(exc)) from exc
