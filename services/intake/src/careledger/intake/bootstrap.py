"""The composition root of intake: wires settings, NATS, streams, vault and entrypoints.

Nothing happens at import time; ``IntakeService.start()`` connects and checks the streams
the admin provisioned.
"""

import logging
import os
from collections.abc import Mapping

from faststream.nats import NatsBroker
from faststream.nats.security import NatsNKey
from faststream.security import BaseSecurity
from litestar import Litestar
from nats.aio.client import Client

from careledger.intake.adapters.clients import load_clients
from careledger.intake.adapters.event_log import JetStreamEventLog
from careledger.intake.adapters.vault import IntakeVault
from careledger.intake.application.intake import Clock, Intake, utc_now
from careledger.intake.entrypoints.access import ClientGate
from careledger.intake.entrypoints.http import OPEN_PATHS, create_app
from careledger.intake.entrypoints.nats import register_command_handlers
from careledger.intake.settings import CLIENTS_FILE, Settings
from careledger.runtime import lifespan, until_connected
from careledger.runtime.nats import NatsAccess
from careledger.runtime.streams import check_stream, event_stream_config
from careledger.vault import JetStreamVault, master_key_from_env, open_vault_bucket

log = logging.getLogger(__name__)


class IntakeService:
    """Intake as one running unit: a NATS connection shared by the HTTP and NATS APIs."""

    def __init__(
        self,
        settings: Settings,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.gate = _gate(settings)  # no clients file (and not insecure dev): stops here
        self.master_key = master_key_from_env(os.environ if environ is None else environ)
        self.clock = clock
        access = settings.nats()
        self.broker = NatsBroker(
            list(access.urls),
            security=_security(access),
            inbox_prefix=access.inbox_prefix,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=2,
            graceful_timeout=10,
            log_level=logging.DEBUG,  # per-message access logs only when debugging
        )
        self._intake: Intake | None = None
        register_command_handlers(self.broker, self.intake, settings.nats_workers)

    def intake(self) -> Intake:
        if self._intake is None:
            raise RuntimeError("intake is not started")
        return self._intake

    def is_connected(self) -> bool:
        connection: Client | None = self.broker._connection
        return bool(connection and connection.is_connected)

    async def start(self) -> None:
        self.gate.warn_if_insecure()
        nc = await self._connect()
        js = nc.jetstream(timeout=self.settings.publish_timeout)
        await check_stream(js, event_stream_config(self.settings.stream))
        kv = await open_vault_bucket(js)
        self._intake = Intake(
            JetStreamEventLog(
                nc,
                timeout=self.settings.publish_timeout,
                replicated=self.settings.stream.replicas > 1,
            ),
            IntakeVault(JetStreamVault(kv, self.master_key)),
            self.clock,
        )
        await self.broker.start()

    async def _connect(self) -> Client:
        return await until_connected(self.broker.connect, self.settings.nats().where)

    async def stop(self) -> None:
        await self.broker.stop()

    def http_app(self) -> Litestar:
        app = create_app(
            lifespan=lifespan(self),
            is_connected=self.is_connected,
            max_body_bytes=self.settings.max_body_bytes,
            retry_after=self.settings.retry_after_seconds,
            gate=self.gate,
        )
        app.state.service = self
        return app


def _gate(settings: Settings) -> ClientGate:
    """Who may send what over HTTP; PrincipalsFileError without anyone (fail closed)."""
    clients = load_clients(settings.clients_file)
    where = (CLIENTS_FILE, settings.clients_file)
    return ClientGate.closed(clients, where, settings, service="intake", open_paths=OPEN_PATHS)


def _security(access: NatsAccess) -> BaseSecurity | None:
    """FastStream takes TLS and the NKey only through ``security``."""
    context = access.tls()
    if access.seed_file is not None:
        return NatsNKey.from_file(access.seed_file, ssl_context=context)
    return BaseSecurity(ssl_context=context) if context is not None else None
