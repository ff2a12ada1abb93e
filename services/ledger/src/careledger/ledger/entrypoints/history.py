"""The history routes: registers as they stood at an instant, consent at an instant, and a
subject's proof bundle. Thin: parse, call the application, reply."""

import datetime as dt
import re
from typing import Any

import duckdb
from litestar import Request, Response, get

from careledger.contracts.vocabulary import OPAQUE_ID_PATTERN
from careledger.ledger.entrypoints.proofs import signed_now
from careledger.ledger.entrypoints.replies import (
    JSON,
    paging,
    read,
    refusal,
    reply,
    service_of,
)
from careledger.ledger.queries.as_of import (
    BadInstant,
    TooLarge,
    parse_axis,
    parse_instant,
    register_as_of,
)
from careledger.ledger.queries.consent_at import consent_at
from careledger.ledger.queries.proof import NoCheckpoint, proof_bundle
from careledger.ledger.queries.registers import UnknownFilter

HttpRequest = Request[Any, Any, Any]
SUBJECT = re.compile(OPAQUE_ID_PATTERN)
AXIS_HELP = (
    "axis is occurred (when it happened, the default) or recorded (when the stream stored it)"
)


def _instant_and_axis(
    params: dict[str, str], name: str
) -> tuple[dt.datetime, Any] | Response[bytes]:
    try:
        at = parse_instant(params.pop(name, ""))
    except BadInstant as exc:
        return refusal(400, name, "instant", f"{exc}; or now")
    try:
        axis = parse_axis(params.pop("axis", "occurred"))
    except ValueError:
        return refusal(400, "axis", "enum", AXIS_HELP)
    return at, axis


async def registers_as_of(request: HttpRequest, name: str) -> Response[bytes]:
    """``GET /v1/registers/{name}?as_of=T&axis=...``: the register as it stood at T."""
    params = dict(request.query_params)
    parsed = _instant_and_axis(params, "as_of")
    if isinstance(parsed, Response):
        return parsed
    at, axis = parsed
    paged = paging(params)
    if isinstance(paged, Response):
        return paged
    limit, offset = paged
    service = service_of(request)
    projections, policy = service.projections(), service.policy

    def ask(c: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        return register_as_of(
            c,
            name,
            params,
            at,
            axis,
            projections=projections,
            policy=policy,
            limit=limit,
            offset=offset,
        )

    try:
        page = await read(request, ask)
    except UnknownFilter as exc:
        return refusal(400, exc.field, "filter", str(exc))
    except TooLarge as exc:
        return refusal(413, "as_of", "replay_size", str(exc))
    return reply(page)


@get("/v1/subjects/{subject_id:str}/consents/{purpose:str}", media_type=JSON)
async def consent(request: HttpRequest) -> Response[bytes]:
    subject_id: str = request.path_params["subject_id"]
    purpose: str = request.path_params["purpose"]
    params = dict(request.query_params)
    params.setdefault("at", "now")
    parsed = _instant_and_axis(params, "at")
    if isinstance(parsed, Response):
        return parsed
    at, axis = parsed
    try:
        answer = await read(request, lambda c: consent_at(c, subject_id, purpose, at, axis))
    except TooLarge as exc:
        return refusal(413, "at", "replay_size", str(exc))
    return reply(answer)


@get("/v1/subjects/{subject_id:str}/proof", media_type=JSON)
async def proof(request: HttpRequest) -> Response[bytes]:
    """Signs a checkpoint of everything applied first, so the bundle is current (if the
    ledger is not applying, the latest checkpoint's tree is what the bundle covers)."""
    subject_id: str = request.path_params["subject_id"]
    if not SUBJECT.fullmatch(subject_id):
        return refusal(400, "subject_id", "pattern", "subject_id is a lowercase UUID or a ULID")
    await signed_now(request)
    signer = service_of(request).signer
    try:
        return reply(await read(request, lambda c: proof_bundle(c, subject_id, signer)))
    except NoCheckpoint as exc:
        return refusal(409, "$", "checkpoint", str(exc))


ROUTES = [consent, proof]
