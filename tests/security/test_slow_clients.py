"""A slow or half-sent request cannot hold a connection: real uvicorn on a free port, with
the protocol both services are served with (``careledger.runtime.serve``)."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from litestar import Litestar, Request, post

from careledger.runtime.read_deadline import with_read_timeout
from careledger.stack.nats_server import free_port

TIMEOUT = 1.0
MARGIN = 1.5  # scheduling on a busy machine


@post("/echo", status_code=200)
async def echo(request: Request[object, object, object]) -> bytes:
    return await request.body()


@pytest.fixture
def server() -> Iterator[int]:
    """uvicorn serving a tiny app in a thread; its port."""
    port = free_port()
    config = uvicorn.Config(
        Litestar([echo]),
        host="127.0.0.1",
        port=port,
        http=with_read_timeout(TIMEOUT),
        log_level="error",
        lifespan="off",
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT + MARGIN + 5)
    return sock


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, head and body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(4096)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def seconds_until_closed(sock: socket.socket, started: float) -> tuple[float, bytes]:
    received = read_until_closed(sock)
    return time.monotonic() - started, received


def test_half_a_request_line_and_headers_is_answered_408_and_closed_in_time(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: careledger\r\nContent-Ty")
        waited, received = seconds_until_closed(sock, started)
    assert TIMEOUT - 0.1 <= waited <= TIMEOUT + MARGIN
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_client_trickling_one_byte_at_a_time_is_closed_at_the_deadline(server: int) -> None:
    request = b"POST /echo HTTP/1.1\r\nHost: careledger\r\nContent-Length: 2\r\n\r\nhi"
    with connect(server) as sock:
        started = time.monotonic()
        sent = 0
        try:
            while sent < len(request) and time.monotonic() - started < 3 * TIMEOUT:
                sock.sendall(request[sent : sent + 1])
                sent += 1
                time.sleep(0.1)
        except OSError:
            pass  # the server closed it while we were still sending
        waited, _ = seconds_until_closed(sock, started)
    assert sent < len(request)
    assert waited <= TIMEOUT + MARGIN


def test_a_body_sent_in_part_closes_the_connection_in_time(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: careledger\r\nContent-Length: 100\r\n\r\n0123")
        waited, received = seconds_until_closed(sock, started)
    assert waited <= TIMEOUT + MARGIN
    assert b"0123" not in received  # the app never saw a complete body to echo


def test_a_connection_that_sends_nothing_is_closed_in_time(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        waited, _ = seconds_until_closed(sock, started)
    assert TIMEOUT - 0.1 <= waited <= TIMEOUT + MARGIN


def test_complete_requests_on_a_kept_alive_connection_are_answered(server: int) -> None:
    request = b"POST /echo HTTP/1.1\r\nHost: careledger\r\nContent-Length: 5\r\n\r\nhello"
    with connect(server) as sock:
        answers = []
        for _ in range(2):
            sock.sendall(request)
            answers.append(read_response(sock))
            time.sleep(TIMEOUT * 0.8)  # idle between requests: keep-alive's business, not ours
    assert all(a.startswith(b"HTTP/1.1 200 ") and a.endswith(b"hello") for a in answers)
