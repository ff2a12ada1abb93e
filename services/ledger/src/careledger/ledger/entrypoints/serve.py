"""``careledger-ledger``: run the ledger (consumer + auditors' HTTP API) until stopped."""

import argparse
import logging
from pathlib import Path
from typing import Any

import uvicorn

from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="careledger-ledger", description=__doc__)
    parser.add_argument("--host", help="HTTP bind address (env CARELEDGER_LEDGER_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port (env CARELEDGER_LEDGER_PORT)")
    parser.add_argument("--nats", help="NATS URL(s), comma-separated (env NATS_URL)")
    parser.add_argument("--db", type=Path, help="DuckDB file (env CARELEDGER_LEDGER_DB)")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "http_host": args.host,
            "http_port": args.port,
            "db_path": args.db,
            "nats_urls": tuple(u.strip() for u in args.nats.split(",")) if args.nats else None,
        }.items()
        if value
    }
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(**overrides)
    service = LedgerService(settings)
    uvicorn.run(
        service.http_app(), host=settings.http_host, port=settings.http_port, log_level="warning"
    )


if __name__ == "__main__":
    main()
