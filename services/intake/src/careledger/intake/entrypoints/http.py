"""HTTP entrypoint (Litestar): one POST route per command. Decode, submit, encode."""

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler

from careledger.contracts import FieldError, encode
from careledger.contracts.commands import COMMAND_TYPES, Command
from careledger.intake.application.intake import Intake
from careledger.intake.entrypoints.access import ClientGate, admit
from careledger.intake.entrypoints.openapi import command_path, openapi_document
from careledger.intake.entrypoints.submission import (
    TITLES,
    Reply,
    internal_error,
    refusal,
    submit,
)
from careledger.runtime.gate import CHALLENGE

OPEN_PATHS = ("/healthz", "/schema/openapi.json")  # no token, no rate limit

log = logging.getLogger(__name__)

JSON = "application/json"
HttpRequest = Request[Any, Any, Any]
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def _respond(reply: Reply, retry_after: int) -> Response[bytes]:
    headers = {"Retry-After": str(retry_after)} if reply.status == 503 else {}
    headers |= CHALLENGE if reply.status == 401 else {}
    return Response(reply.body, status_code=reply.status, media_type=JSON, headers=headers)


def command_route(command_type: type[Command]) -> HTTPRouteHandler:
    async def route(request: HttpRequest) -> Response[bytes]:
        gate: ClientGate = request.app.state.gate
        retry_after: int = request.app.state.retry_after
        client, refused = admit(gate, request, command_type.name)
        if refused is not None:
            return _respond(refused, retry_after)
        intake: Intake = request.app.state.service.intake()
        if request.content_type[0] != JSON:
            return _respond(refusal(415, _content_type_error(request)), retry_after)
        body = await request.body()
        key, own = request.headers.get("idempotency-key"), client.client_id if client else None
        reply = await submit(intake, command_type, body, key, own)
        if reply.status == 403:
            gate.refused(request, 403, "client_id")
        return _respond(reply, retry_after)

    route.__name__ = route.__qualname__ = command_type.__name__
    return post(command_path(command_type.name), name=command_type.name, status_code=201)(route)


def _content_type_error(request: HttpRequest) -> FieldError:
    return FieldError(
        field="Content-Type",
        rule="media_type",
        message=f"send the command as {JSON}, not {request.content_type[0] or 'no type'}",
    )


@get("/schema/openapi.json", media_type=JSON)
async def openapi_json() -> bytes:
    return encode(openapi_document())


@get("/healthz", media_type=JSON)
async def healthz(request: HttpRequest) -> Response[bytes]:
    connected = request.app.state.is_connected()
    gate: ClientGate = request.app.state.gate
    return Response(
        encode({"nats": "connected" if connected else "disconnected"} | gate.health()),
        status_code=200 if connected else 503,
        media_type=JSON,
    )


def _http_error(request: HttpRequest, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status == 429:
        return _too_many(request, exc)
    title = TITLES.get(status, exc.detail)
    body = encode(
        {
            "status": status,
            "title": title,
            "errors": [{"field": "$", "rule": "http", "message": exc.detail}],
        }
    )
    return Response(body, status_code=status, media_type=JSON, headers=_allow(exc))


def _allow(exc: HTTPException) -> dict[str, str]:
    """The methods a 405's path answers (RFC 9110 15.5.6: a 405 must say), as Litestar's
    router named them on the exception."""
    allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
    return {"Allow": allowed} if exc.status_code == 405 and allowed else {}


def _too_many(request: HttpRequest, exc: HTTPException) -> Response[bytes]:
    gate: ClientGate = request.app.state.gate
    gate.throttled(request)
    headers = dict(exc.headers or {})
    error = FieldError(
        field="Authorization",
        rule="rate_limit",
        message=f"more than {gate.rate_limit} requests a second from {gate.who(request)}: "
        f"retry after {headers['Retry-After']} s with the same Idempotency-Key",
    )
    reply = refusal(429, error)
    return Response(reply.body, status_code=429, media_type=JSON, headers=headers)


def _unexpected_error(request: HttpRequest, exc: Exception) -> Response[bytes]:
    log.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    reply = internal_error()
    return Response(reply.body, status_code=reply.status, media_type=JSON)


def create_app(
    *,
    lifespan: Lifespan,
    is_connected: Callable[[], bool] = lambda: True,
    max_body_bytes: int = 64 * 1024,
    retry_after: int = 2,
    gate: ClientGate,
) -> Litestar:
    app = Litestar(
        route_handlers=[*(command_route(c) for c in COMMAND_TYPES), openapi_json, healthz],
        lifespan=[lifespan],
        request_max_body_size=max_body_bytes,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
        before_request=gate.throttle,
        openapi_config=None,
    )
    app.state.gate = gate
    app.state.retry_after = retry_after
    app.state.is_connected = is_connected
    return app
