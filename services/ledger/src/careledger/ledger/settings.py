"""Ledger settings, read from the environment in one place (argument > environment > default)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    nats_urls: tuple[str, ...] = ("nats://127.0.0.1:4222",)
    db_path: Path = Path("var/ledger.duckdb")
    http_host: str = "127.0.0.1"
    http_port: int = 8081
    consumer: str = "ledger"
    batch_size: int = 5000
    fetch_timeout: float = 0.5
    export_dir: Path = Path("var/exports")
    auditors_file: Path | None = None
    stream_replicas: int = 1  # of the streams the ledger may create (access log, vault)
    checkpoint_every: float = 30.0  # seconds idle between checkpoints of the DuckDB WAL
    rebuild_workers: int = 0  # processes for a rebuild on open; 0: one per available core

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: Any) -> "Settings":
        env = os.environ if environ is None else environ
        settings = cls(
            nats_urls=tuple(
                u.strip() for u in env.get("NATS_URL", cls.nats_urls[0]).split(",") if u.strip()
            ),
            db_path=Path(env.get("CARELEDGER_LEDGER_DB", str(cls.db_path))),
            http_host=env.get("CARELEDGER_LEDGER_HOST", cls.http_host),
            http_port=int(env.get("CARELEDGER_LEDGER_PORT", cls.http_port)),
            consumer=env.get("CARELEDGER_LEDGER_CONSUMER", cls.consumer),
            batch_size=int(env.get("CARELEDGER_LEDGER_BATCH", cls.batch_size)),
            export_dir=Path(env.get("CARELEDGER_EXPORT_DIR", str(cls.export_dir))),
            auditors_file=Path(env["CARELEDGER_AUDITORS_FILE"])
            if env.get("CARELEDGER_AUDITORS_FILE")
            else None,
            stream_replicas=int(env.get("CARELEDGER_STREAM_REPLICAS") or cls.stream_replicas),
            rebuild_workers=int(env.get("CARELEDGER_REBUILD_WORKERS") or cls.rebuild_workers),
            checkpoint_every=float(
                env.get("CARELEDGER_LEDGER_CHECKPOINT_EVERY") or cls.checkpoint_every
            ),
        )
        return replace(settings, **overrides)
