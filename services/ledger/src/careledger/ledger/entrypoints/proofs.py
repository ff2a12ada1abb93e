"""The transparency routes: the latest signed checkpoint (and one on demand), the key that
checks it, inclusion and consistency proofs, and where the ledger's own checks stand.
Thin: parse, call the queries, reply."""

import asyncio
import re
from typing import Any

from litestar import Request, Response, get, post

from careledger.ledger.adapters import checkpoints
from careledger.ledger.domain.merkle import ProofError
from careledger.ledger.domain.note import vkey
from careledger.ledger.entrypoints.replies import JSON, read, refusal, reply, service_of
from careledger.ledger.queries.proofs import NotInTree, consistency, inclusion

HttpRequest = Request[Any, Any, Any]
TEXT = "text/plain; charset=utf-8"
ON_DEMAND_WAIT = 10.0  # seconds a caller waits for a checkpoint signed on demand


@get("/v1/ledger/checkpoint", media_type=TEXT)
async def latest_checkpoint(request: HttpRequest) -> Response[bytes]:
    """The latest signed checkpoint, as a C2SP signed note (text/plain)."""
    return await _latest(request)


async def _latest(request: HttpRequest) -> Response[bytes]:
    signed = await read(request, checkpoints.latest)
    if signed is None:
        return refusal(404, "$", "checkpoint", "no checkpoint signed yet: the log is empty")
    return Response(signed.note.encode(), media_type=TEXT)


@post("/v1/ledger/checkpoint", media_type=TEXT, status_code=200)
async def sign_checkpoint(request: HttpRequest) -> Response[bytes]:
    """Sign a checkpoint of everything applied so far (if the tree grew), and answer it."""
    if await signed_now(request) is False:
        message = (
            "no checkpoint signed: the ledger is not applying, or not signing before the "
            "verify at start has passed (GET /v1/ledger/integrity)"
        )
        return refusal(503, "$", "checkpoint", message)
    return await _latest(request)


async def signed_now(request: HttpRequest) -> bool:
    """Ask the runner for a checkpoint of what it holds, waiting (a bounded time) for it to
    start signing: it does once the verify at start has passed. False if it did not sign."""
    service = service_of(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ON_DEMAND_WAIT
    while service.integrity.state != "failed" and loop.time() < deadline:
        runner = service.runner
        if runner is not None and runner.signing is not None and runner.health.applying:
            try:
                await asyncio.wait_for(runner.checkpoint_now(), deadline - loop.time())
            except TimeoutError:
                return False
            return True
        await asyncio.sleep(0.1)
    return False


@get("/v1/ledger/key", media_type=TEXT)
async def key(request: HttpRequest) -> Response[bytes]:
    """The note verifier key checkpoints and bundles are signed with."""
    return Response((vkey(service_of(request).verifier) + "\n").encode(), media_type=TEXT)


@get("/v1/ledger/proofs/inclusion", media_type=JSON)
async def inclusion_proof(request: HttpRequest) -> Response[bytes]:
    """?sequence=N[&size=S]: RFC 9162 inclusion proof of the event at stream sequence N in
    the tree of S leaves (default: the latest checkpoint's size)."""
    sequence, size = _whole(request, "sequence"), _whole(request, "size", optional=True)
    if isinstance(sequence, Response):
        return sequence
    if isinstance(size, Response):
        return size
    try:
        return reply(await read(request, lambda c: inclusion(c, sequence, size)))
    except NotInTree as exc:
        return refusal(404, "sequence", "in_tree", str(exc))
    except ProofError as exc:
        return refusal(400, "size", "tree_size", str(exc))


@get("/v1/ledger/proofs/consistency", media_type=JSON)
async def consistency_proof(request: HttpRequest) -> Response[bytes]:
    """?from=M[&to=N]: RFC 9162 consistency proof from the tree of M leaves to that of N
    (default: the latest checkpoint's size)."""
    first, second = _whole(request, "from"), _whole(request, "to", optional=True)
    if isinstance(first, Response):
        return first
    if isinstance(second, Response):
        return second
    try:
        return reply(await read(request, lambda c: consistency(c, first, second)))
    except ProofError as exc:
        return refusal(400, "from", "tree_size", str(exc))


@get("/v1/ledger/integrity", media_type=JSON)
async def integrity(request: HttpRequest) -> Response[bytes]:
    """The ledger's own checks: at open, and the full verify it runs in the background."""
    state = service_of(request).integrity
    checked = state.checked_at.isoformat() if state.checked_at else None
    body = {"state": state.state, "problems": state.problems, "checked_at": checked}
    return reply(body, 409 if state.state == "failed" else 200)


def _whole(request: HttpRequest, name: str, optional: bool = False) -> Any:
    raw = request.query_params.get(name)
    if raw is None and optional:
        return None
    if raw is None or not _DIGITS.fullmatch(raw):
        return refusal(400, name, "integer", f"{name} is a whole number (got {raw!r})")
    return int(raw)


_DIGITS = re.compile("[0-9]{1,18}")  # ASCII only (str.isdecimal takes any script's digits)


ROUTES = [latest_checkpoint, sign_checkpoint, key, inclusion_proof, consistency_proof, integrity]
