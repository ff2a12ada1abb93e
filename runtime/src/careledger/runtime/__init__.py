"""What both services do alike when they run: wait for NATS, start and stop with their
HTTP app, and serve it from the command line. Nothing here knows intake or the ledger."""

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar

import uvicorn
from litestar import Litestar

from careledger.runtime.nats import urls
from careledger.runtime.read_deadline import with_read_timeout

log = logging.getLogger(__name__)
T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class Service(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def until_connected(connect: Callable[[], Awaitable[T]], where: str) -> T:
    """``connect()`` retried with a growing delay (up to 5 s) until it succeeds: a service
    started before its NATS server waits for it, saying so, rather than dying."""
    delay = 0.5
    while True:
        try:
            return await connect()
        except Exception as exc:
            log.warning("waiting for NATS at %s: %s", where, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def lifespan(service: Service) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The HTTP app's lifespan: the service starts before the first request and stops after
    the last."""

    @asynccontextmanager
    async def running(_app: Litestar) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    return running


def arguments(prog: str, description: str | None, env_prefix: str) -> argparse.ArgumentParser:
    """The options both services take: ``--host``, ``--port``, ``--nats``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", help=f"HTTP bind address (env {env_prefix}_HOST)")
    parser.add_argument("--port", type=int, help=f"HTTP port (env {env_prefix}_PORT)")
    parser.add_argument("--nats", help="NATS URL(s), comma-separated (env NATS_URL)")
    return parser


def overrides(args: argparse.Namespace, **more: Any) -> dict[str, Any]:
    """The settings the options given override (those not given are left to the
    environment and the defaults)."""
    given = {
        "http_host": args.host,
        "http_port": args.port,
        "nats_urls": urls(args.nats) if args.nats else None,
        **more,
    }
    return {key: value for key, value in given.items() if value}


def serve(app: Litestar, host: str, port: int, read_timeout: float = 10.0) -> None:
    """Serve ``app`` until stopped, logging at INFO; a request not read completely within
    ``read_timeout`` seconds closes its connection (``careledger.runtime.read_deadline``)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    protocol = with_read_timeout(read_timeout)
    uvicorn.run(app, host=host, port=port, log_level="warning", http=protocol)
