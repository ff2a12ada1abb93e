"""The auditors' HTTP API, served by the ledger process (the only one that may open the
DuckDB file). Each request reads through its own cursor, in a worker thread."""

from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException

from careledger.ledger.entrypoints import history, proofs
from careledger.ledger.entrypoints.openapi import OPENAPI_PATH, openapi_document
from careledger.ledger.entrypoints.personal import authenticate, personal_data
from careledger.ledger.entrypoints.replies import (
    JSON,
    paging,
    read,
    refusal,
    reply,
    service_of,
)
from careledger.ledger.entrypoints.returns import ROUTES as RETURN_ROUTES
from careledger.ledger.queries.export import Format, export, put_in_place, staging_dir
from careledger.ledger.queries.registers import REGISTERS, UnknownFilter, query
from careledger.runtime import lifespan

if TYPE_CHECKING:
    from careledger.ledger.bootstrap import LedgerService

HttpRequest = Request[Any, Any, Any]


@get("/v1/registers/{name:str}", media_type=JSON)
async def register(request: HttpRequest) -> Response[bytes]:
    name: str = request.path_params["name"]
    if name not in REGISTERS:
        return refusal(404, "$.name", "register", f"no register {name!r}; use {sorted(REGISTERS)}")
    if "as_of" in request.query_params:  # as it stood at an instant: entrypoints/history.py
        return await history.registers_as_of(request, name)
    params = dict(request.query_params)
    paged = paging(params)
    if isinstance(paged, Response):
        return paged
    limit, offset = paged
    try:
        register, policy = REGISTERS[name], service_of(request).policy
        page = await read(
            request, lambda c: query(c, register, params, policy, limit=limit, offset=offset)
        )
    except UnknownFilter as exc:
        return refusal(400, exc.field, "filter", str(exc))
    return reply(page)


MAX_TIMELINE = 1000


@get("/v1/subjects/{subject_id:str}/timeline", media_type=JSON)
async def timeline(request: HttpRequest) -> Response[bytes]:
    subject_id: str = request.path_params["subject_id"]
    register, policy = REGISTERS["timeline"], service_of(request).policy
    asked = {"subject_id": subject_id}
    page = await read(request, lambda c: query(c, register, asked, policy, limit=MAX_TIMELINE))
    return reply(page)


@get("/v1/ledger/position", media_type=JSON)
async def position(request: HttpRequest) -> Response[bytes]:
    service = service_of(request)
    runner = service.runner
    held = runner.position.sequence if runner else 0
    stream_last = await service.stream_last_sequence()
    return reply(
        {
            "ledger_sequence": held,
            "stream_sequence": stream_last,
            "lag": None if stream_last is None else max(stream_last - held, 0),
            "applying": bool(runner and runner.health.applying),
            "last_error": runner.health.last_error if runner else None,
        }
    )


@get("/v1/ledger/verify", media_type=JSON)
async def verify_ledger(request: HttpRequest) -> Response[bytes]:
    report = await service_of(request).verify()
    return reply(
        {
            "ok": report.ok,
            "events": report.events,
            "rejected": report.rejected,
            "stream_messages": report.stream_messages,
            "problems": report.problems,
        },
        200 if report.ok else 409,
    )


@post("/v1/exports", media_type=JSON, status_code=201)
async def create_export(request: HttpRequest) -> Response[bytes]:
    raw = request.query_params.get("format", "parquet")
    if raw not in ("csv", "parquet"):
        return refusal(400, "format", "enum", "format is csv or parquet")
    fmt: Format = "csv" if raw == "csv" else "parquet"
    service = service_of(request)
    export_dir = service.settings.export_dir
    staging = staging_dir(export_dir)
    projections = service.projections()
    manifest = await read(request, lambda c: export(c, staging, fmt, projections))
    held = manifest["log_position"]["sequence"]
    out = put_in_place(staging, export_dir / f"log-{held}-{fmt}")
    return reply({"directory": str(out.resolve()), "manifest": manifest}, 201)


@get(OPENAPI_PATH, media_type=JSON)
async def openapi_json() -> Response[bytes]:
    """Open, like intake's: no token, no rate limit (entrypoints/personal.py OPEN_PATHS)."""
    return reply(openapi_document())


@get("/healthz", media_type=JSON)
async def healthz(request: HttpRequest) -> Response[bytes]:
    return reply({"status": "alive"} | service_of(request).gate.health())


@get("/readyz", media_type=JSON)
async def readyz(request: HttpRequest) -> Response[bytes]:
    service = service_of(request)
    checks = {
        "nats": service.is_connected(),
        "consumer": bool(service.runner and service.runner.health.applying),
        "duckdb": await service.store_answers(),
        "integrity": service.integrity.state != "failed",
    }
    error = service.runner.health.last_error if service.runner else None
    if service.integrity.state == "failed":
        error = "integrity: " + "; ".join(service.integrity.problems)
    return reply(
        {"ready": all(checks.values()), "checks": checks, "last_error": error},
        200 if all(checks.values()) else 503,
    )


def _http_error(request: HttpRequest, exc: HTTPException) -> Response[bytes]:
    if exc.status_code != 429:
        return refusal(exc.status_code, "$", "http", exc.detail)
    gate = service_of(request).gate
    gate.throttled(request)
    headers = dict(exc.headers or {})
    message = (
        f"more than {gate.rate_limit} requests a second from {gate.who(request)}: "
        f"retry after {headers['Retry-After']} s"
    )
    return refusal(429, "Authorization", "rate_limit", message, headers=headers)


def create_app(service: "LedgerService") -> Litestar:
    app = Litestar(
        route_handlers=[
            register,
            timeline,
            *history.ROUTES,
            personal_data,
            position,
            verify_ledger,
            create_export,
            healthz,
            readyz,
            openapi_json,
            *RETURN_ROUTES,
            *proofs.ROUTES,
        ],
        lifespan=[lifespan(service)],
        exception_handlers={HTTPException: _http_error},
        before_request=authenticate,
        openapi_config=None,
    )
    app.state.service = service
    return app
