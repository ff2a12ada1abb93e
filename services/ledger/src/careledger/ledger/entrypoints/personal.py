"""Who is asking, and the one route that shows personal data (to a DPO, with a purpose)."""

import re
from typing import Any

from litestar import Request, Response, get

from careledger.contracts.vocabulary import OPAQUE_ID_PATTERN
from careledger.ledger.adapters.auditors import Auditor
from careledger.ledger.entrypoints.openapi import OPENAPI_PATH
from careledger.ledger.entrypoints.replies import read, refusal, reply, service_of
from careledger.ledger.queries.personal_data import references, reveal
from careledger.runtime.gate import CHALLENGE

HttpRequest = Request[Any, Any, Any]
SUBJECT = re.compile(OPAQUE_ID_PATTERN)  # it names the access log's NATS subject
OPEN_PATHS = ("/healthz", "/readyz", OPENAPI_PATH)  # no token, no rate limit


async def authenticate(request: HttpRequest) -> Response[bytes] | None:
    """Before every request: each caller's rate limit, then every route but OPEN_PATHS needs
    a known bearer token (unless the ledger runs open: CARELEDGER_INSECURE_DEV=1 and no
    auditors file)."""
    gate = service_of(request).gate
    await gate.throttle(request)  # 429 past the caller's rate, token or not
    request.state.auditor = gate.principal(request)
    path = request.scope["path"]  # request.url parses the whole URL
    if request.state.auditor is not None or gate.open_access or path in OPEN_PATHS:
        return None
    gate.refused(request, 401, "bearer_token")
    return refusal(
        401,
        "Authorization",
        "bearer_token",
        "send Authorization: Bearer <token> with the token of an auditor listed in the "
        "ledger's auditors file (CARELEDGER_AUDITORS_FILE)",
        headers=CHALLENGE,
    )


@get("/v1/subjects/{subject_id:str}/personal-data")
async def personal_data(request: HttpRequest) -> Response[bytes]:
    subject_id: str = request.path_params["subject_id"]
    service = service_of(request)
    auditor: Auditor | None = request.state.auditor
    if auditor is None or "dpo" not in auditor.roles:
        service.gate.refused(request, 403, "role_dpo")
        return refusal(
            403,
            "Authorization",
            "role_dpo",
            "personal data is shown only to an auditor token with the dpo role "
            "(CARELEDGER_AUDITORS_FILE)",
        )
    if not SUBJECT.fullmatch(subject_id):
        return refusal(400, "subject_id", "pattern", "subject_id is a lowercase UUID or a ULID")
    purpose = request.query_params.get("purpose", "").strip()
    if len(purpose) < 8:
        return refusal(
            400,
            "purpose",
            "required",
            "say why (purpose=..., at least 8 characters): it is recorded",
        )
    if service.vault is None or service.access_log is None:
        return refusal(503, "$", "vault", "no vault master key is configured on this ledger")
    refs = await read(request, lambda c: references(c, subject_id))
    try:
        record = await service.access_log.record(
            subject_id=subject_id,
            reader=auditor.name,
            roles=auditor.roles,
            purpose=purpose,
            records=len(refs),
        )
    except Exception as exc:
        return refusal(503, "$", "access_log", f"the read could not be recorded: {exc!r}")
    records = await reveal(service.vault, subject_id, refs, service.vault_missing)
    return reply({"read_id": record.read_id, "subject_id": subject_id, "records": records})
