"""The auditors' HTTP API, served by the ledger process (the only one that may open the
DuckDB file). Each request reads through its own cursor, in a worker thread."""

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException

from careledger.ledger.application.export import Format, export
from careledger.ledger.application.registers import REGISTERS, UnknownFilter, query

if TYPE_CHECKING:
    from careledger.ledger.bootstrap import LedgerService

JSON = "application/json"
HttpRequest = Request[Any, Any, Any]
_encoder = msgspec.json.Encoder(decimal_format="string")


def _json(body: Any, status: int = 200) -> Response[bytes]:
    return Response(_encoder.encode(body), status_code=status, media_type=JSON)


def _service(request: HttpRequest) -> "LedgerService":
    service: LedgerService = request.app.state.service
    return service


async def _read(request: HttpRequest, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
    store = _service(request).store
    if store is None:
        raise HTTPException(status_code=503, detail="the ledger is starting")

    def run() -> Any:
        cursor = store.con.cursor()
        try:
            return work(cursor)
        finally:
            cursor.close()

    return await asyncio.to_thread(run)


@get("/v1/registers/{name:str}", media_type=JSON)
async def register(request: HttpRequest, name: str) -> Response[bytes]:
    if name not in REGISTERS:
        return _refusal(404, "$.name", "register", f"no register {name!r}; use {sorted(REGISTERS)}")
    params = dict(request.query_params)
    try:
        limit, offset = int(params.pop("limit", 100)), int(params.pop("offset", 0))
    except ValueError:
        return _refusal(400, "limit", "integer", "limit and offset are whole numbers")
    try:
        page = await _read(request, lambda c: query(c, name, params, limit=limit, offset=offset))
    except UnknownFilter as exc:
        return _refusal(400, exc.field, "filter", str(exc))
    return _json(page)


@get("/v1/subjects/{subject_id:str}/timeline", media_type=JSON)
async def timeline(request: HttpRequest, subject_id: str) -> Response[bytes]:
    page = await _read(
        request, lambda c: query(c, "timeline", {"subject_id": subject_id}, limit=MAX_TIMELINE)
    )
    return _json(page)


MAX_TIMELINE = 1000


@get("/v1/ledger/position", media_type=JSON)
async def position(request: HttpRequest) -> Response[bytes]:
    service = _service(request)
    runner = service.runner
    held = runner.position.sequence if runner else 0
    stream_last = await service.stream_last_sequence()
    return _json(
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
    report = await _service(request).verify()
    return _json(
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
        return _refusal(400, "format", "enum", "format is csv or parquet")
    fmt: Format = "csv" if raw == "csv" else "parquet"
    service = _service(request)
    held = service.runner.position.sequence if service.runner else 0
    out = service.settings.export_dir / f"log-{held}-{fmt}"
    manifest = await _read(request, lambda c: export(c, out, fmt))
    return _json({"directory": str(out.resolve()), "manifest": manifest}, 201)


@get("/healthz", media_type=JSON)
async def healthz() -> Response[bytes]:
    return _json({"status": "alive"})


@get("/readyz", media_type=JSON)
async def readyz(request: HttpRequest) -> Response[bytes]:
    service = _service(request)
    checks = {
        "nats": service.is_connected(),
        "consumer": bool(service.runner and service.runner.health.applying),
        "duckdb": bool(await _read(request, lambda c: c.execute("SELECT 1").fetchall())),
    }
    error = service.runner.health.last_error if service.runner else None
    return _json(
        {"ready": all(checks.values()), "checks": checks, "last_error": error},
        200 if all(checks.values()) else 503,
    )


def _refusal(status: int, field: str, rule: str, message: str) -> Response[bytes]:
    return _json(
        {
            "status": status,
            "title": message,
            "errors": [{"field": field, "rule": rule, "message": message}],
        },
        status,
    )


def _http_error(_request: HttpRequest, exc: HTTPException) -> Response[bytes]:
    return _refusal(exc.status_code, "$", "http", exc.detail)


def create_app(service: "LedgerService") -> Litestar:
    app = Litestar(
        route_handlers=[
            register,
            timeline,
            position,
            verify_ledger,
            create_export,
            healthz,
            readyz,
        ],
        lifespan=[service.lifespan],
        exception_handlers={HTTPException: _http_error},
        openapi_config=None,
    )
    app.state.service = service
    return app
