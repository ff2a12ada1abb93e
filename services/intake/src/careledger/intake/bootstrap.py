"""The composition root of intake: wires settings, NATS, streams, vault and entrypoints.

Nothing happens at import time; ``IntakeService.start()`` connects and provisions.
"""

import logging
import os
from collections.abc import Mapping

from faststream.nats import NatsBroker
from litestar import Litestar
from nats.aio.client import Client

from careledger.intake.adapters.event_log import JetStreamEventLog
from careledger.intake.adapters.provisioning import ensure_streams
from careledger.intake.adapters.vault import IntakeVault
from careledger.intake.application.intake import Clock, Intake, utc_now
from careledger.intake.entrypoints.http import create_app
from careledger.intake.entrypoints.nats import register_command_handlers
from careledger.intake.settings import Settings
from careledger.runtime import lifespan, until_connected
from careledger.vault import JetStreamVault, ensure_vault_bucket, master_key_from_env

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
        self.master_key = master_key_from_env(os.environ if environ is None else environ)
        self.clock = clock
        self.broker = NatsBroker(
            list(settings.nats_urls),
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
        nc = await self._connect()
        js = nc.jetstream(timeout=self.settings.publish_timeout)
        await ensure_streams(js, self.settings.stream)
        kv = await ensure_vault_bucket(js, self.settings.stream.replicas)
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
        return await until_connected(self.broker.connect, ",".join(self.settings.nats_urls))

    async def stop(self) -> None:
        await self.broker.stop()

    def http_app(self) -> Litestar:
        app = create_app(
            lifespan=lifespan(self),
            is_connected=self.is_connected,
            max_body_bytes=self.settings.max_body_bytes,
            retry_after=self.settings.retry_after_seconds,
        )
        app.state.service = self
        return app
