"""Connections to the tests' secure nats-server processes: as a named user (its NKey, the
server's CA, its inbox prefix), and the admin's provisioning step the services expect."""

import asyncio
from typing import Any

import nats
from nats.aio.client import Client

from careledger.ledger.entrypoints.admin import provision
from careledger.runtime.nats import NatsAccess
from careledger.runtime.streams import StreamSettings
from careledger.stack.nats_server import NatsServer


async def connect(server: NatsServer, user: str = "admin", **options: Any) -> Client:
    """A client of ``server`` as ``user`` (the admin by default: tests look everywhere)."""
    return await nats.connect(**server.access(user).connect_options(), **options)


async def provisioned(server: NatsServer, settings: StreamSettings | None = None) -> None:
    await provision(server.access("admin"), settings or StreamSettings())


def provision_now(server: NatsServer, settings: StreamSettings | None = None) -> None:
    """The admin's step, from synchronous code (fixtures, subprocess-driven tests)."""
    asyncio.run(provisioned(server, settings))


def service_settings(server: NatsServer, user: str) -> dict[str, Any]:
    """The NATS fields of a service's Settings (intake's or the ledger's) for ``server``."""
    return {
        "nats_urls": (server.url,),
        "nats_ca_file": server.ca_file,
        "nats_seed_file": server.seed(user),
    }


def service_env(server: NatsServer, user: str) -> dict[str, str]:
    """The environment a service process needs to reach ``server`` as ``user``."""
    return access_env(server.access(user))


def access_env(access: NatsAccess) -> dict[str, str]:
    """The environment a process reads ``access`` from (``NatsAccess.from_env``): a server's
    or a cluster's URLs, the CA and the user's seed."""
    return access.env()
