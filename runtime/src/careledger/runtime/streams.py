"""The streams of the trail, as docs/architecture.md and docs/security.md describe them: made
and changed only by the admin's provisioning step, checked by every service at start.

Settings that guard the trail (storage, retention and limits, deny_delete, deny_purge,
subjects) are compared on an existing stream: a difference stops the service, or the
provisioning, with a message naming each one. Provisioning updates the duplicate window,
direct get and replica count in place and logs each change; a service that finds them
different only warns (it may not change a stream), and one that finds a stream missing
stops and says to provision.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import DLQ_STREAM, DLQ_SUBJECTS, EVENT_STREAM, EVENT_SUBJECTS

log = logging.getLogger(__name__)

ACCESS_STREAM = "CARELEDGER_ACCESS"
ACCESS_SUBJECTS = "careledger.access.>"
CHECKPOINT_STREAM = "CARELEDGER_CHECKPOINTS"
CHECKPOINT_SUBJECT = "careledger.checkpoints"
GUARDED = (
    "subjects",
    "storage",
    "retention",
    "deny_delete",
    "deny_purge",
    "max_age",
    "max_msgs",
    "max_bytes",
    "max_msgs_per_subject",
    "discard",
)
UPDATABLE = ("duplicate_window", "allow_direct", "num_replicas")
DAY = 24 * 3600.0


class StreamMismatch(RuntimeError):
    """An existing stream differs from what CareLedger needs in a setting it will not change."""


class StreamMissing(RuntimeError):
    """A stream the service needs does not exist: the admin has not provisioned it."""


@dataclass(frozen=True)
class StreamSettings:
    replicas: int = 1
    duplicate_window: float = 120.0
    max_age: float = 0.0  # seconds; 0 keeps events forever (retention is a policy decision)
    max_msg_size: int = 1024 * 1024
    dlq_max_age: float = 30 * DAY  # invalid messages are kept for inspection, not forever

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "StreamSettings":
        return cls(
            replicas=int(env.get("CARELEDGER_STREAM_REPLICAS") or cls.replicas),
            duplicate_window=float(env.get("CARELEDGER_DUPLICATE_WINDOW") or cls.duplicate_window),
            max_age=float(env.get("CARELEDGER_EVENT_MAX_AGE") or cls.max_age),
            dlq_max_age=float(env.get("CARELEDGER_DLQ_MAX_AGE") or cls.dlq_max_age),
        )


def event_stream_config(settings: StreamSettings) -> StreamConfig:
    return _config(EVENT_STREAM, EVENT_SUBJECTS, settings, settings.max_age)


def dlq_stream_config(settings: StreamSettings) -> StreamConfig:
    return _config(DLQ_STREAM, DLQ_SUBJECTS, settings, settings.dlq_max_age)


def access_stream_config(settings: StreamSettings) -> StreamConfig:
    """Every read of personal data, kept as long as the events (the DPO's evidence)."""
    return _config(ACCESS_STREAM, ACCESS_SUBJECTS, settings, settings.max_age)


def checkpoint_stream_config(settings: StreamSettings) -> StreamConfig:
    """The ledger's signed checkpoints, kept forever whatever the events' retention: a
    checkpoint someone kept must stay comparable with the log's own."""
    return _config(CHECKPOINT_STREAM, CHECKPOINT_SUBJECT, settings, 0.0)


def _config(name: str, subjects: str, settings: StreamSettings, max_age: float) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[subjects],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=max_age,
        max_msgs=-1,
        max_bytes=-1,
        max_msgs_per_subject=-1,
        max_msg_size=settings.max_msg_size,
        num_replicas=settings.replicas,
        duplicate_window=settings.duplicate_window,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
    )


async def check_stream(js: JetStreamContext, wanted: StreamConfig) -> None:
    """Refuse a missing stream or one whose guarded settings differ; warn about the rest."""
    assert wanted.name is not None
    try:
        existing = (await js.stream_info(wanted.name)).config
    except NotFoundError:
        raise StreamMissing(
            f"stream {wanted.name} does not exist: run `careledger admin provision` with the "
            "admin's credentials first (services never create streams)"
        ) from None
    _refuse_drift(existing, wanted)
    for field in _changed(existing, wanted):
        log.warning(
            "stream %s: %s is %r, CareLedger is configured for %r; `careledger admin "
            "provision` would update it",
            wanted.name,
            field,
            getattr(existing, field),
            getattr(wanted, field),
        )


async def provision_stream(js: JetStreamContext, wanted: StreamConfig) -> None:
    """Create the stream, or update what may change in place; never a guarded setting."""
    assert wanted.name is not None
    try:
        existing = (await js.stream_info(wanted.name)).config
    except NotFoundError:
        await js.add_stream(wanted)
        log.info("created stream %s", wanted.name)
        return
    _refuse_drift(existing, wanted)
    changed = _changed(existing, wanted)
    if changed:
        await js.update_stream(wanted)
        for field in changed:
            log.warning(
                "stream %s: %s updated from %r to %r",
                wanted.name,
                field,
                getattr(existing, field),
                getattr(wanted, field),
            )


def _refuse_drift(existing: StreamConfig, wanted: StreamConfig) -> None:
    differences = [
        f"{field}: stream has {_shown(getattr(existing, field))!r}, CareLedger needs "
        f"{_shown(getattr(wanted, field))!r}"
        for field in GUARDED
        if _normal(getattr(existing, field)) != _normal(getattr(wanted, field))
    ]
    if differences:
        raise StreamMismatch(
            f"stream {wanted.name} exists with settings CareLedger will not change by itself:\n  "
            + "\n  ".join(differences)
            + "\nFix the stream deliberately (or point CareLedger at another server); "
            "nothing was modified."
        )


def _changed(existing: StreamConfig, wanted: StreamConfig) -> list[str]:
    return [f for f in UPDATABLE if getattr(existing, f) != getattr(wanted, f)]


def _shown(value: object) -> object:
    """A setting as the server names it (``file``, not ``StorageType.FILE``)."""
    return value.value if isinstance(value, Enum) else value


def _normal(value: object) -> object:
    """Unset and default are the same setting (the server reports -1 / 0 / None variously)."""
    if value in (None, -1, 0, 0.0, False):
        return None
    return value
