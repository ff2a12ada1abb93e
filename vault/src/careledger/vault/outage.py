"""NATS errors that mean "no answer now, retry later" (the vault raises VaultUnavailable;
intake's event log uses the same list for its 503)."""

from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
import nats.js.errors

from careledger.vault.errors import VaultUnavailable

UNAVAILABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
)


@contextmanager
def unavailable(message: str) -> Iterator[None]:
    """Raise VaultUnavailable, starting with ``message``, when NATS does not answer."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise VaultUnavailable(f"{message}: {exc!r}") from exc
