"""What can go wrong with the vault, each error saying what to do about it."""


class VaultKeyError(Exception):
    """A blob did not open: wrong master key, wrong data key, or not sealed for this place."""


class MasterKeyError(ValueError):
    """The master key is missing or malformed; the message says what to fix."""


class VaultEntryMissing(LookupError):
    """The record or the subject's key is not in the vault: erased, or never stored."""


class VaultConflict(ValueError):
    """A record id already holds different personal data; records are never overwritten."""


class VaultUnavailable(Exception):
    """NATS did not answer in time; nothing is known to be stored or erased. Retry later."""


class VaultBucketMismatch(RuntimeError):
    """The bucket exists with settings that would keep erased bytes or lose data."""
