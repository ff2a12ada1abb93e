"""The vault's KV bucket: file storage, one revision per key, secure delete allowed; made by
the admin's provisioning, opened (and checked) by the services.

``create_key_value`` would make its stream with deny_delete on, and erasure needs the
stream's secure delete; an existing bucket with other settings is refused, never changed.
"""

from contextlib import suppress

from nats.js import JetStreamContext
from nats.js import errors as js_errors
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.kv import KeyValue

from careledger.contracts.subjects import VAULT_BUCKET
from careledger.vault.errors import VaultBucketMismatch

__all__ = [
    "VAULT_STREAM",
    "VaultBucketMismatch",
    "open_vault_bucket",
    "provision_vault_bucket",
]

VAULT_STREAM = f"KV_{VAULT_BUCKET}"


async def provision_vault_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    """The admin's step: create the vault bucket if missing (file storage, one revision per
    key, secure delete allowed), then check it. ``replicas`` applies when the bucket is
    created (3 on a cluster, like the event stream: intake cannot accept personal data while
    the vault is unreachable)."""
    try:
        await js.key_value(VAULT_BUCKET)
    except js_errors.BucketNotFoundError:
        with suppress(js_errors.BadRequestError):  # made concurrently: checked below
            await js.add_stream(_stream_config(replicas))
    return await open_vault_bucket(js)


async def open_vault_bucket(js: JetStreamContext) -> KeyValue:
    """A service's step: the provisioned bucket, refused if missing or not as the vault needs
    it (a service never creates or changes it)."""
    try:
        stored = (await js.stream_info(VAULT_STREAM)).config
    except js_errors.NotFoundError:
        raise VaultBucketMismatch(
            f"KV bucket {VAULT_BUCKET} does not exist: run `careledger admin provision` with "
            "the admin's credentials first (services never create it)"
        ) from None
    found = (stored.storage, stored.max_msgs_per_subject, stored.max_age or 0, stored.deny_delete)
    if found != (StorageType.FILE, 1, 0, False):
        raise VaultBucketMismatch(
            f"KV bucket {VAULT_BUCKET} has (storage, history, ttl, deny_delete) = {found}; the "
            f"vault needs {(StorageType.FILE, 1, 0, False)}. deny_delete cannot be changed: "
            "recreate the bucket deliberately (a copy of its entries); nothing was modified."
        )
    return await js.key_value(VAULT_BUCKET)


def _stream_config(replicas: int) -> StreamConfig:
    """What ``create_key_value`` makes, except deny_delete, which erasure needs off."""
    return StreamConfig(
        name=VAULT_STREAM,
        subjects=[f"$KV.{VAULT_BUCKET}.>"],
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=True,
        allow_direct=True,
        deny_delete=False,
        duplicate_window=120.0,
        num_replicas=replicas,
    )
