"""What every ledger route shares: JSON replies, refusals, and reads through a cursor."""

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import duckdb
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

if TYPE_CHECKING:
    from careledger.ledger.bootstrap import LedgerService

JSON = "application/json"
_encoder = msgspec.json.Encoder(decimal_format="string")


def reply(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    return Response(_encoder.encode(body), status_code=status, media_type=JSON, headers=headers)


def refusal(
    status: int, field: str, rule: str, message: str, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    error = {"field": field, "rule": rule, "message": message}
    return reply({"status": status, "title": message, "errors": [error]}, status, headers)


LARGEST_OFFSET = 2**63 - 1  # DuckDB binds OFFSET as a signed 64-bit integer


def paging(params: dict[str, str]) -> tuple[int, int] | Response[bytes]:
    """``limit`` and ``offset``, taken out of ``params``, or the refusal naming the one that
    is not a whole number or is past what the database can skip."""
    try:
        limit, offset = int(params.pop("limit", 100)), int(params.pop("offset", 0))
    except ValueError:
        return refusal(400, "limit", "integer", "limit and offset are whole numbers")
    if offset > LARGEST_OFFSET:
        return refusal(400, "offset", "range", f"offset is at most {LARGEST_OFFSET}")
    return limit, offset


def service_of(request: Request[Any, Any, Any]) -> "LedgerService":
    service: LedgerService = request.app.state.service
    return service


async def read(
    request: Request[Any, Any, Any], work: Callable[[duckdb.DuckDBPyConnection], Any]
) -> Any:
    """Run a query on its own cursor in a worker thread (the ledger keeps applying). Refused
    while the ledger's file has failed its own checks: what it would answer is not trusted."""
    service = service_of(request)
    store = service.store
    if store is None:
        raise HTTPException(status_code=503, detail="the ledger is starting")
    if service.integrity.state == "failed":
        problems = "; ".join(service.integrity.problems)
        detail = f"the ledger's file failed its integrity check, an operator must act: {problems}"
        raise HTTPException(status_code=503, detail=detail)

    def run() -> Any:
        cursor = store.cursor()
        try:
            return work(cursor)
        finally:
            cursor.close()

    return await asyncio.to_thread(run)
