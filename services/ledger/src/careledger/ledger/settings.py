"""Ledger settings, read from the environment in one place (argument > environment > default)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from careledger.runtime.gate import DEFAULT_RATE_LIMIT, DEFAULT_READ_TIMEOUT
from careledger.runtime.nats import CA_FILE, NKEY_FILE, NatsAccess
from careledger.runtime.principals import insecure_dev
from careledger.runtime.streams import StreamSettings

AUDITORS_FILE = "CARELEDGER_AUDITORS_FILE"
CHECKPOINT_KEY_FILE = "CARELEDGER_CHECKPOINT_KEY_FILE"
RETIRED_KEYS_FILE = "CARELEDGER_CHECKPOINT_RETIRED_KEYS_FILE"


@dataclass(frozen=True)
class Settings:
    nats_urls: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    nats_ca_file: Path | None = None  # the CA of the servers' TLS certificate
    nats_seed_file: Path | None = None  # the ledger's NKey seed (mode 0600)
    streams: StreamSettings = field(default_factory=StreamSettings)
    db_path: Path = Path("var/ledger.duckdb")
    http_host: str = "127.0.0.1"
    http_port: int = 8081
    consumer: str = "ledger"
    batch_size: int = 5000
    fetch_timeout: float = 0.5
    export_dir: Path = Path("var/exports")
    auditors_file: Path | None = None
    insecure_dev: bool = False  # without an auditors file, /v1 open to anyone (a local trial)
    rate_limit: int = DEFAULT_RATE_LIMIT  # HTTP requests a second per auditor
    http_read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds to send a whole request
    wal_checkpoint_every: float = 30.0  # seconds idle between DuckDB checkpoints of the WAL
    checkpoint_key_file: Path | None = None  # the key signed checkpoints are signed with
    retired_keys_file: Path | None = None  # verifier keys rotated out, one a line
    checkpoint_every: float = 10.0  # seconds at most between signed checkpoints as the log grows
    rebuild_workers: int = 0  # processes for a rebuild on open; 0: one per available core

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> "Settings":
        env = os.environ if environ is None else environ
        settings = cls(
            nats_urls=tuple(
                u.strip() for u in env.get("NATS_URL", cls.nats_urls[0]).split(",") if u.strip()
            ),
            nats_ca_file=Path(env[CA_FILE]) if env.get(CA_FILE) else None,
            nats_seed_file=Path(env[NKEY_FILE]) if env.get(NKEY_FILE) else None,
            streams=StreamSettings.from_env(env),
            db_path=Path(env.get("CARELEDGER_LEDGER_DB", str(cls.db_path))),
            http_host=env.get("CARELEDGER_LEDGER_HOST", cls.http_host),
            http_port=int(env.get("CARELEDGER_LEDGER_PORT", cls.http_port)),
            consumer=env.get("CARELEDGER_LEDGER_CONSUMER", cls.consumer),
            batch_size=int(env.get("CARELEDGER_LEDGER_BATCH", cls.batch_size)),
            export_dir=Path(env.get("CARELEDGER_EXPORT_DIR", str(cls.export_dir))),
            auditors_file=Path(env[AUDITORS_FILE]) if env.get(AUDITORS_FILE) else None,
            insecure_dev=insecure_dev(env),
            rate_limit=_above_zero(env, "CARELEDGER_RATE_LIMIT", int, cls.rate_limit),
            http_read_timeout=_above_zero(
                env, "CARELEDGER_HTTP_READ_TIMEOUT", float, cls.http_read_timeout
            ),
            rebuild_workers=int(env.get("CARELEDGER_REBUILD_WORKERS") or cls.rebuild_workers),
            wal_checkpoint_every=float(
                env.get("CARELEDGER_LEDGER_CHECKPOINT_EVERY") or cls.wal_checkpoint_every
            ),
            checkpoint_key_file=Path(env[CHECKPOINT_KEY_FILE])
            if env.get(CHECKPOINT_KEY_FILE)
            else None,
            retired_keys_file=Path(env[RETIRED_KEYS_FILE]) if env.get(RETIRED_KEYS_FILE) else None,
            checkpoint_every=_above_zero(
                env, "CARELEDGER_CHECKPOINT_EVERY", float, cls.checkpoint_every
            ),
        )
        return replace(settings, **overrides)

    def nats(self) -> NatsAccess:
        """How the ledger reaches NATS (its inbox prefix is the one its user may read)."""
        inbox = "_INBOX_ledger" if self.nats_seed_file else "_INBOX"
        return NatsAccess(self.nats_urls, self.nats_ca_file, self.nats_seed_file, inbox)


def _above_zero(env: Mapping[str, str], name: str, kind: type[Any], default: Any) -> Any:
    raw = env.get(name) or ""
    try:
        value = kind(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be above 0")
    return value
