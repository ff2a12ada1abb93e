"""A deadline on reading each HTTP request: its line, headers and body must all arrive
within ``read_timeout`` seconds of its first byte (of the connection, for the first
request), or the connection is closed (with a 408 if no request is under way).

uvicorn has no such timeout: ``timeout_keep_alive`` only runs between requests and every
received byte cancels it, so a client sending half a request, or one byte at a time, holds
a connection (and its memory) for as long as it likes. ASGI middleware cannot help: the app
is called only once the headers are complete. Hence this subclass of uvicorn's h11 protocol,
passed to ``uvicorn.run(http=...)``; its only hooks are the asyncio Protocol callbacks.
"""

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

_READING = (h11.IDLE, h11.SEND_BODY)  # the client's side, until its request is complete
_TIMEOUT_REPLY = b"the request was not sent completely in time\n"


class ReadDeadlineProtocol(H11Protocol):
    read_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self._reading():
            self._arm()  # the first byte of a new request on a kept-alive connection
        super().data_received(data)
        if not self._reading():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _reading(self) -> bool:
        return self.conn.their_state in _READING

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._reading():
            return
        where = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.warning(
            "closed the connection of %s: request incomplete after %ss", where, self.read_timeout
        )
        if self.conn.our_state is h11.IDLE:  # no response under way: say why
            length = str(len(_TIMEOUT_REPLY)).encode()
            headers = [(b"connection", b"close"), (b"content-length", length)]
            reply = (h11.Response(status_code=408, headers=headers), h11.Data(data=_TIMEOUT_REPLY))
            try:
                for event in (*reply, h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event) or b"")
            except h11.LocalProtocolError:
                pass
        self.transport.close()


def with_read_timeout(seconds: float) -> type[ReadDeadlineProtocol]:
    """The protocol class with this deadline, for ``uvicorn.run(http=...)``."""
    return type("ReadDeadlineProtocol", (ReadDeadlineProtocol,), {"read_timeout": seconds})
