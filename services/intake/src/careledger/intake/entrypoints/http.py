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
from careledger.intake.entrypoints.openapi import command_path, openapi_document
from careledger.intake.entrypoints.submission import (
    TITLES,
    Reply,
    internal_error,
    refusal,
    submit,
)

log = logging.getLogger(__name__)

JSON = "application/json"
HttpRequest = Request[Any, Any, Any]
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def _respond(reply: Reply, retry_after: int) -> Response[bytes]:
    headers = {"Retry-After": str(retry_after)} if reply.status == 503 else {}
    return Response(reply.body, status_code=reply.status, media_type=JSON, headers=headers)


def command_route(command_type: type[Command]) -> HTTPRouteHandler:
    async def route(request: HttpRequest) -> Response[bytes]:
        intake: Intake = request.app.state.service.intake()
        retry_after: int = request.app.state.retry_after
        if request.content_type[0] != JSON:
            return _respond(refusal(415, _content_type_error(request)), retry_after)
        body = await request.body()
        reply = await submit(intake, command_type, body, request.headers.get("idempotency-key"))
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
    return Response(
        encode({"nats": "connected" if connected else "disconnected"}),
        status_code=200 if connected else 503,
        media_type=JSON,
    )


def _http_error(request: HttpRequest, exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    title = TITLES.get(status, exc.detail)
    body = encode(
        {
            "status": status,
            "title": title,
            "errors": [{"field": "$", "rule": "http", "message": exc.detail}],
        }
    )
    return Response(body, status_code=status, media_type=JSON)


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
) -> Litestar:
    app = Litestar(
        route_handlers=[*(command_route(c) for c in COMMAND_TYPES), openapi_json, healthz],
        lifespan=[lifespan],
        request_max_body_size=max_body_bytes,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected_error},
        openapi_config=None,
    )
    app.state.retry_after = retry_after
    app.state.is_connected = is_connected
    return app
