"""Both services as processes, with the protections of their HTTP APIs: no token, no answer;
a half-sent request does not hold a connection past CARELEDGER_HTTP_READ_TIMEOUT."""

import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from careledger.stack.nats_server import NatsServer
from tests.e2e.stack import running_stack

READ_TIMEOUT = 1.0
MARGIN = 2.0


def closed_after(url: str) -> tuple[float, bytes]:
    """Seconds until the server closes a connection sent half a request, and what it said."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT + MARGIN + 5) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/commands/erase-subject HTTP/1.1\r\nHost: x\r\nContent-Len")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        return time.monotonic() - started, received


def status_without_token(url: str) -> tuple[int, str]:
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"{}"), timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("WWW-Authenticate", "")
    raise AssertionError(f"{url} answered without a token")


def test_both_services_refuse_anonymous_callers_and_close_half_sent_requests(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    timeout = {"CARELEDGER_HTTP_READ_TIMEOUT": str(READ_TIMEOUT)}
    with running_stack(nats_server, tmp_path, **timeout) as (intake, ledger, _):
        anonymous = [
            status_without_token(f"{intake}/v1/commands/erase-subject"),
            status_without_token(f"{ledger}/v1/exports?format=csv"),
        ]
        half_sent = [closed_after(intake), closed_after(ledger)]

    assert anonymous == [(401, "Bearer"), (401, "Bearer")]
    for waited, said in half_sent:
        assert READ_TIMEOUT - 0.1 <= waited <= READ_TIMEOUT + MARGIN
        assert said.startswith(b"HTTP/1.1 408 ")
