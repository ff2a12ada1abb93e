"""Book-keeping of hand-made JetStream pull requests: what was asked, what came.

Deliveries carry the stream subject, not the request's reply subject, so data messages
cannot tell which request they answer; at most one request is open at a time and every
data message counts against it. Status messages come on the request's own reply subject
(``<inbox>.<n>``): 404 (no messages, for ``no_wait``) and 408 (expired) end it normally,
409 ends it early (max ack pending reached, leadership change, consumer deleted, …), 503
means nobody answers the API (stream or consumer unavailable), 100 is a heartbeat. A 503,
a deleted consumer or any other status makes the next ``fetch`` raise, so the runner
resets the consumer from the ledger's position; after another 409 ``fetch`` backs off.
"""

import asyncio
import logging

from nats.aio.msg import Msg

log = logging.getLogger(__name__)
ENDED = frozenset({"404", "408"})


class ConsumerGone(RuntimeError):
    """The server ended a pull because the consumer no longer exists: reset it."""


class Pulls:
    def __init__(self, inbox: str, batch: int) -> None:
        self.inbox = inbox
        self.batch = batch
        self.open: str | None = None  # reply subject of the open request
        self.no_wait = False
        self.left = 0  # messages the open request may still deliver
        self.refused = False  # the last request ended with 409/503
        self.failed: Exception | None = None
        self._buffer: list[Msg] = []
        self._count = 0
        self._changed = asyncio.Event()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def opened(self, batch: int, *, no_wait: bool) -> str:
        assert self.open is None, "one pull request at a time"
        self._count += 1
        self.open = f"{self.inbox}.{self._count}"
        self.no_wait = no_wait
        self.left = batch
        self.refused = False
        return self.open

    def take(self, batch: int) -> list[Msg]:
        msgs = self._buffer[:batch]
        del self._buffer[:batch]
        return msgs

    def abandon(self) -> None:
        """Stop waiting for the open request; late deliveries still land in the buffer."""
        self.open = None

    async def until(self, enough: int) -> None:
        while self.open is not None and len(self._buffer) < enough:
            self._changed.clear()
            await self._changed.wait()

    async def on_message(self, msg: Msg) -> None:
        if msg.reply:  # a delivery (its ack subject); the server's statuses have none
            self._buffer.append(msg)
            self.left -= 1
            if self.left <= 0:
                self.open = None
        else:
            headers = msg.headers or {}
            status = headers.get("Status", "")
            if status == "100" or msg.subject != self.open:  # heartbeat, or a stale request
                return
            self._ended(status, headers.get("Description", ""))
        self._changed.set()

    def _ended(self, status: str, description: str) -> None:
        self.open = None
        if status in ENDED:
            return
        self.refused = True
        log.info("pull request ended early: %s %s", status, description)
        if status == "503" or (status == "409" and "deleted" in description.lower()):
            self.failed = ConsumerGone(f"pull request refused: {status} {description}")
        elif status != "409":
            self.failed = RuntimeError(f"pull request refused: {status} {description}")
