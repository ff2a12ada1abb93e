"""The complaints return over HTTP: ``GET`` answers JSON, ``POST`` writes CSV or Parquet
files with a manifest under the export directory.

    GET  /v1/returns/complaints?from=2026-10-01&to=2026-11-01&by=channel
    GET  /v1/returns/complaints?period=last-month&by=product
    POST /v1/returns/complaints?from=...&to=...&by=cause&format=csv|parquet

``from`` and ``to`` are UTC dates, the period ``[from, to)``; ``period`` (``this-month``,
``last-month``, by the server's UTC date) replaces them. Definitions: queries/returns.
"""

import datetime as dt
import re
from typing import Any

from litestar import Request, Response, get, post

from careledger.ledger.entrypoints.replies import JSON, read, refusal, reply, service_of
from careledger.ledger.queries.export import Format, put_in_place, staging_dir
from careledger.ledger.queries.returns import (
    DIMENSIONS,
    InvalidReturn,
    complaints_return,
    named_period,
    write_return,
)

HttpRequest = Request[Any, Any, Any]
ROUTE = "/v1/returns/complaints"


def _day(params: dict[str, str], name: str) -> dt.date:
    raw = params.get(name)
    if raw is None:
        raise InvalidReturn(name, f"{name} is required (a UTC date, YYYY-MM-DD), or give period")
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidReturn(name, f"{name} is a date YYYY-MM-DD, not {raw!r}")


def _asked(params: dict[str, str]) -> tuple[dt.date, dt.date, str]:
    """The period and dimension a request asks for; InvalidReturn names the field."""
    if "period" in params:
        if "from" in params or "to" in params:
            raise InvalidReturn("period", "give period or from and to, not both")
        start, end = named_period(params["period"], dt.datetime.now(dt.UTC).date())
    else:
        start, end = _day(params, "from"), _day(params, "to")
    if start >= end:
        raise InvalidReturn("to", f"the period is [from, to): to ({end}) must be after {start}")
    by = params.get("by", "")
    if by not in DIMENSIONS:
        raise InvalidReturn("by", f"by is one of {', '.join(DIMENSIONS)}, not {by!r}")
    return start, end, by


@get(ROUTE, media_type=JSON)
async def complaints_return_json(request: HttpRequest) -> Response[bytes]:
    try:
        start, end, by = _asked(dict(request.query_params))
    except InvalidReturn as exc:
        return refusal(400, exc.field, "return", str(exc))
    return reply(await read(request, lambda c: complaints_return(c, start, end, by)))


@post(ROUTE, media_type=JSON, status_code=201)
async def complaints_return_files(request: HttpRequest) -> Response[bytes]:
    params = dict(request.query_params)
    raw = params.pop("format", "parquet")
    if raw not in ("csv", "parquet"):
        return refusal(400, "format", "enum", "format is csv or parquet")
    fmt: Format = "csv" if raw == "csv" else "parquet"
    try:
        start, end, by = _asked(params)
    except InvalidReturn as exc:
        return refusal(400, exc.field, "return", str(exc))
    export_dir = service_of(request).settings.export_dir
    staging = staging_dir(export_dir)
    manifest = await read(request, lambda c: write_return(c, staging, fmt, start, end, by))
    held = manifest["log_position"]["sequence"]
    name = f"return-complaints-{start}-{end}-{by}-{held}-{fmt}"
    out = put_in_place(staging, export_dir / name)
    return reply({"directory": str(out.resolve()), "manifest": manifest}, 201)


ROUTES = [complaints_return_json, complaints_return_files]
