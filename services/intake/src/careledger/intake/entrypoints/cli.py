"""``careledger-intake``: run the intake service (HTTP and NATS APIs) until stopped."""

import argparse
import logging
from typing import Any

import uvicorn

from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="careledger-intake", description=__doc__)
    parser.add_argument("--host", help="HTTP bind address (env CARELEDGER_INTAKE_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port (env CARELEDGER_INTAKE_PORT)")
    parser.add_argument("--nats", help="NATS URL(s), comma-separated (env NATS_URL)")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["http_host"] = args.host
    if args.port:
        overrides["http_port"] = args.port
    if args.nats:
        overrides["nats_urls"] = tuple(u.strip() for u in args.nats.split(",") if u.strip())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(**overrides)
    service = IntakeService(settings)
    uvicorn.run(
        service.http_app(), host=settings.http_host, port=settings.http_port, log_level="warning"
    )


if __name__ == "__main__":
    main()
