"""Ensure the streams exist as docs/architecture.md says, and never rewrite them silently.

Settings that guard the trail (storage, deny_delete, deny_purge, subjects, retention and
limits) are compared on an existing stream: a difference stops the service with a message
naming each one. The duplicate window, direct get and replica count are updated in place,
and each change is logged.
"""

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import DLQ_STREAM, DLQ_SUBJECTS, EVENT_STREAM, EVENT_SUBJECTS

log = logging.getLogger(__name__)

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


class StreamMismatch(RuntimeError):
    """An existing stream differs from what CareLedger needs in a setting it will not change."""


@dataclass(frozen=True)
class StreamSettings:
    replicas: int = 1
    duplicate_window: float = 120.0
    max_age: float = 0.0  # seconds; 0 keeps events forever (retention is a policy decision)
    max_msg_size: int = 1024 * 1024


def event_stream_config(settings: StreamSettings) -> StreamConfig:
    return _config(EVENT_STREAM, EVENT_SUBJECTS, settings)


def dlq_stream_config(settings: StreamSettings) -> StreamConfig:
    return _config(DLQ_STREAM, DLQ_SUBJECTS, settings)


def _config(name: str, subjects: str, settings: StreamSettings) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[subjects],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=settings.max_age,
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


async def ensure_stream(js: JetStreamContext, wanted: StreamConfig) -> None:
    assert wanted.name is not None
    try:
        info = await js.stream_info(wanted.name)
    except NotFoundError:
        await js.add_stream(wanted)
        log.info("created stream %s", wanted.name)
        return
    existing = info.config
    differences = [
        f"{field}: stream has {getattr(existing, field)!r}, CareLedger needs "
        f"{getattr(wanted, field)!r}"
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
    changed = [f for f in UPDATABLE if getattr(existing, f) != getattr(wanted, f)]
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


def _normal(value: object) -> object:
    """Unset and default are the same setting (the server reports -1 / 0 / None variously)."""
    if value in (None, -1, 0, 0.0, False):
        return None
    return value


async def ensure_streams(js: JetStreamContext, settings: StreamSettings) -> None:
    await ensure_stream(js, event_stream_config(settings))
    await ensure_stream(js, dlq_stream_config(settings))
