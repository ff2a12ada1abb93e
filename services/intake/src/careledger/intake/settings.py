"""Intake settings, read from the environment in one place (argument > environment > default)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from careledger.runtime.gate import DEFAULT_RATE_LIMIT, DEFAULT_READ_TIMEOUT
from careledger.runtime.nats import CA_FILE, NKEY_FILE, NatsAccess
from careledger.runtime.principals import insecure_dev
from careledger.runtime.streams import StreamSettings

CLIENTS_FILE = "CARELEDGER_CLIENTS_FILE"


class SettingsError(ValueError):
    """An environment variable holds a value intake cannot use."""


@dataclass(frozen=True)
class Settings:
    nats_urls: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    nats_ca_file: Path | None = None  # the CA of the servers' TLS certificate
    nats_seed_file: Path | None = None  # intake's NKey seed (mode 0600)
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    publish_timeout: float = 2.0
    max_body_bytes: int = 64 * 1024
    retry_after_seconds: int = 2
    nats_workers: int = 16
    stream: StreamSettings = field(default_factory=StreamSettings)
    clients_file: Path | None = None  # who may send which commands over HTTP (TOML)
    insecure_dev: bool = False  # without a clients file, HTTP open to anyone (a local trial)
    rate_limit: int = DEFAULT_RATE_LIMIT  # HTTP requests a second per client
    http_read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds to send a whole request

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> "Settings":
        env = os.environ if environ is None else environ
        stream = StreamSettings(
            replicas=_number(env, "CARELEDGER_STREAM_REPLICAS", int, 1),
            duplicate_window=_number(env, "CARELEDGER_DUPLICATE_WINDOW", float, 120.0),
            max_age=_number(env, "CARELEDGER_EVENT_MAX_AGE", float, 0.0),
            dlq_max_age=_number(env, "CARELEDGER_DLQ_MAX_AGE", float, StreamSettings.dlq_max_age),
        )
        settings = cls(
            nats_urls=tuple(
                url.strip()
                for url in env.get("NATS_URL", "nats://127.0.0.1:4222").split(",")
                if url.strip()
            ),
            nats_ca_file=Path(env[CA_FILE]) if env.get(CA_FILE) else None,
            nats_seed_file=Path(env[NKEY_FILE]) if env.get(NKEY_FILE) else None,
            http_host=env.get("CARELEDGER_INTAKE_HOST", "127.0.0.1"),
            http_port=_number(env, "CARELEDGER_INTAKE_PORT", int, 8080),
            publish_timeout=_number(env, "CARELEDGER_PUBLISH_TIMEOUT", float, 2.0),
            max_body_bytes=_number(env, "CARELEDGER_MAX_BODY_BYTES", int, 64 * 1024),
            retry_after_seconds=_number(env, "CARELEDGER_RETRY_AFTER", int, 2),
            nats_workers=max(1, _number(env, "CARELEDGER_NATS_WORKERS", int, 16)),
            stream=stream,
            clients_file=Path(env[CLIENTS_FILE]) if env.get(CLIENTS_FILE) else None,
            insecure_dev=insecure_dev(env),
            rate_limit=_above_zero(env, "CARELEDGER_RATE_LIMIT", int, DEFAULT_RATE_LIMIT),
            http_read_timeout=_above_zero(
                env, "CARELEDGER_HTTP_READ_TIMEOUT", float, DEFAULT_READ_TIMEOUT
            ),
        )
        return replace(settings, **overrides)

    def nats(self) -> NatsAccess:
        """How intake reaches NATS (its inbox prefix is the one its user may read)."""
        inbox = "_INBOX_intake" if self.nats_seed_file else "_INBOX"
        return NatsAccess(self.nats_urls, self.nats_ca_file, self.nats_seed_file, inbox)


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


def _above_zero(env: Mapping[str, str], name: str, kind: type[Any], default: Any) -> Any:
    value = _number(env, name, kind, default)
    if value == 0:
        raise SettingsError(f"{name}=0: it must be above 0")
    return value
