"""CareLedger's personal-data vault, shared by intake (writes) and ledger (reads).

Personal data is sealed with AES-256-GCM under a per-subject data key; the data keys are
wrapped by a master key from the environment; everything lives in one JetStream KV bucket.
Events carry only a ``PersonalRef``: the record's key and a salted commitment. Erasing a
subject securely deletes its key, salt and records.

Depends on the contracts, nats-py, cryptography and msgspec; on no service.
"""

from careledger.vault.bucket import VAULT_STREAM, open_vault_bucket, provision_vault_bucket
from careledger.vault.errors import (
    MasterKeyError,
    VaultBucketMismatch,
    VaultConflict,
    VaultEntryMissing,
    VaultKeyError,
    VaultUnavailable,
)
from careledger.vault.master_key import (
    ENV_KEY,
    ENV_KEY_FILE,
    ensure_master_key_file,
    master_key_from_env,
)
from careledger.vault.store import JetStreamVault

__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "VAULT_STREAM",
    "JetStreamVault",
    "MasterKeyError",
    "VaultBucketMismatch",
    "VaultConflict",
    "VaultEntryMissing",
    "VaultKeyError",
    "VaultUnavailable",
    "ensure_master_key_file",
    "master_key_from_env",
    "open_vault_bucket",
    "provision_vault_bucket",
]
