"""Intake settings, read from the environment in one place (argument > environment > default)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from careledger.intake.adapters.provisioning import StreamSettings


class SettingsError(ValueError):
    """An environment variable holds a value intake cannot use."""


@dataclass(frozen=True)
class Settings:
    nats_urls: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    publish_timeout: float = 2.0
    max_body_bytes: int = 64 * 1024
    retry_after_seconds: int = 2
    nats_workers: int = 16
    stream: StreamSettings = field(default_factory=StreamSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> "Settings":
        env = os.environ if environ is None else environ
        stream = StreamSettings(
            replicas=_number(env, "CARELEDGER_STREAM_REPLICAS", int, 1),
            duplicate_window=_number(env, "CARELEDGER_DUPLICATE_WINDOW", float, 120.0),
            max_age=_number(env, "CARELEDGER_EVENT_MAX_AGE", float, 0.0),
        )
        settings = cls(
            nats_urls=tuple(
                url.strip()
                for url in env.get("NATS_URL", "nats://127.0.0.1:4222").split(",")
                if url.strip()
            ),
            http_host=env.get("CARELEDGER_INTAKE_HOST", "127.0.0.1"),
            http_port=_number(env, "CARELEDGER_INTAKE_PORT", int, 8080),
            publish_timeout=_number(env, "CARELEDGER_PUBLISH_TIMEOUT", float, 2.0),
            max_body_bytes=_number(env, "CARELEDGER_MAX_BODY_BYTES", int, 64 * 1024),
            retry_after_seconds=_number(env, "CARELEDGER_RETRY_AFTER", int, 2),
            nats_workers=max(1, _number(env, "CARELEDGER_NATS_WORKERS", int, 16)),
            stream=stream,
        )
        return replace(settings, **overrides)


def _number(env: Mapping[str, str], name: str, kind: type[Any], default: Any) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must not be negative")
    return value
