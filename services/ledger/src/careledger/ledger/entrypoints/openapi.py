"""The OpenAPI document of the ledger's HTTP API (the auditors' routes).

Written here rather than by Litestar's generator because the routes read their query
parameters themselves and answer raw bytes, which Litestar cannot see. Served open (no
token, no rate limit) at ``OPENAPI_PATH``, like intake's; committed as ``OPENAPI_FILE``.
"""

import json
import sys
from pathlib import Path
from typing import Any

from careledger.ledger.queries.registers import REGISTERS
from careledger.ledger.queries.returns import DIMENSIONS

OPENAPI_PATH = "/schema/openapi.json"
OPENAPI_FILE = "services/ledger/openapi.json"
REF = "#/components/schemas/{name}"
JSON, TEXT = "application/json", "text/plain"
Json = dict[str, Any]


def _obj(required: str, **properties: Json) -> Json:
    """An object schema: ``required`` names (space separated), other fields allowed."""
    return {"type": "object", "required": required.split(), "properties": properties}


INT: Json = {"type": "integer"}
STR: Json = {"type": "string"}
BOOL: Json = {"type": "boolean"}
NULLABLE_STR = {"type": ["string", "null"]}
ROWS = {"type": "array", "items": {"type": "object"}}
B64S = {"type": "array", "items": STR}
SCHEMAS: dict[str, Json] = {
    "Refusal": _obj(
        "status title errors",
        status=INT,
        title=STR,
        errors={"type": "array", "minItems": 1, "items": {"$ref": REF.format(name="FieldError")}},
    ),
    "FieldError": _obj("field rule message", field=STR, rule=STR, message=STR),
    "Page": _obj("items total limit offset", items=ROWS, total=INT, limit=INT, offset=INT),
    "ConsentAt": _obj(
        "subject_id purpose consented state consent_id given withdrawn consents",
        subject_id=STR,
        purpose=STR,
        consented=BOOL,
        state=STR,
        consent_id=NULLABLE_STR,
        consents=ROWS,
    ),
    "ProofBundle": _obj("items", items=ROWS),
    "Position": _obj(
        "ledger_sequence stream_sequence lag applying last_error",
        ledger_sequence=INT,
        stream_sequence={"type": ["integer", "null"]},
        lag={"type": ["integer", "null"]},
        applying=BOOL,
        last_error=NULLABLE_STR,
    ),
    "Verify": _obj(
        "ok events rejected stream_messages problems",
        ok=BOOL,
        events=INT,
        rejected=INT,
        stream_messages=INT,
        problems={"type": "array", "items": STR},
    ),
    "Files": _obj("directory manifest", directory=STR, manifest={"type": "object"}),
    "Return": {"type": "object"},
    "Records": _obj("read_id subject_id records", read_id=STR, subject_id=STR, records=ROWS),
    "Document": _obj("openapi paths components", openapi=STR),
    "Inclusion": _obj(
        "sequence leaf_index subject_prev leaf_hash tree_size root_hash inclusion_path",
        sequence=INT,
        leaf_index=INT,
        subject_prev={"type": ["integer", "null"]},
        leaf_hash=STR,
        tree_size=INT,
        root_hash=STR,
        inclusion_path=B64S,
    ),
    "Consistency": _obj(
        "first second first_root second_root consistency_path",
        first=INT,
        second=INT,
        first_root=STR,
        second_root=STR,
        consistency_path=B64S,
    ),
    "Integrity": _obj(
        "state problems checked_at",
        state=STR,
        problems={"type": "array", "items": STR},
        checked_at=NULLABLE_STR,
    ),
    "Health": _obj("status insecure_dev refusals", status=STR, insecure_dev=BOOL),
    "Ready": _obj("ready checks last_error", ready=BOOL, checks={"type": "object"}),
}
REFUSALS = {
    400: "A parameter is refused: errors[] names it and the rule",
    401: "No bearer token, or one no auditor in the auditors file has",
    403: "The auditor lacks the role this route needs",
    404: "Nothing by that name or number (or no such route: a path parameter holding /)",
    409: "The ledger's own check failed, or there is no checkpoint yet",
    413: "The question would replay more events than the ledger allows",
    429: "Over the auditor's rate limit; retry after Retry-After seconds",
    503: "The ledger is starting, or its file failed its integrity check",
}


def _content(schema: str, media: str = JSON) -> Json:
    if media == TEXT:
        return {TEXT: {"schema": STR}}
    return {media: {"schema": {"$ref": REF.format(name=schema)}}}


def _param(name: str, where: str = "query", required: bool = False, **schema: Any) -> Json:
    return {"name": name, "in": where, "required": required, "schema": schema or STR}


def _op(
    summary: str,
    answers: dict[int, tuple[str, str]],
    params: tuple[Json, ...] = (),
    refusals: tuple[int, ...] = (),
    media: str = JSON,
    open_: bool = False,
) -> Json:
    """An operation: ``answers`` status -> (description, schema); every route may also
    answer 429 and (reading the file) 503; a route behind the token also 401."""
    responses = {
        str(status): {"description": text, "content": _content(schema, media)}
        for status, (text, schema) in answers.items()
    }
    routed = {404} if any(p["in"] == "path" for p in params) else set()
    for status in {*refusals, 429} | routed | (set() if open_ else {401, 503}):
        responses[str(status)] = {"description": REFUSALS[status], "content": _content("Refusal")}
    for status, header in ((401, "WWW-Authenticate"), (429, "Retry-After")):
        if str(status) in responses:
            responses[str(status)]["headers"] = {header: {"schema": STR}}
    return {
        "summary": summary,
        "parameters": list(params),
        "security": [] if open_ else [{"bearer": []}],
        "responses": responses,
    }


SUBJECT = _param("subject_id", "path", True)
AXIS = _param("axis", enum=["occurred", "recorded"])
FORMAT = _param("format", enum=["csv", "parquet"])
WHOLE: Json = {"type": "integer", "minimum": 0}
FILTERS = {
    "name": "filters",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": "Exact-value filters on the register's columns (each register lists its own)",
    "schema": {"type": "object", "additionalProperties": STR},
}
RETURN = (
    _param("from", format="date"),
    _param("to", format="date"),
    _param("period", enum=["this-month", "last-month"]),
    _param("by", required=True, enum=list(DIMENSIONS)),
)
CHECKPOINT = {200: ("The latest checkpoint, a C2SP signed note", "")}
FILES = {201: ("Files written, with their manifest (rows, SHA-256, log position)", "Files")}


def paths() -> dict[str, Json]:
    names = sorted(REGISTERS)
    register = (_param("name", "path", True, enum=names), FILTERS)
    page = (_param("limit", **WHOLE), _param("offset", **WHOLE))
    return {
        "/v1/registers/{name}": {
            "get": _op(
                "A page of a register, or the register as it stood at as_of on an axis",
                {200: ("A page of rows, each with its event_ids", "Page")},
                (*register, *page, _param("as_of"), AXIS),
                (400, 404, 413),
            )
        },
        "/v1/subjects/{subject_id}/timeline": {
            "get": _op("Every event about a subject", {200: ("Its events", "Page")}, (SUBJECT,))
        },
        "/v1/subjects/{subject_id}/consents/{purpose}": {
            "get": _op(
                "Whether the purpose was consented at an instant, with the evidence",
                {200: ("The consent and its events", "ConsentAt")},
                (SUBJECT, _param("purpose", "path", True), _param("at"), AXIS),
                (400, 413),
            )
        },
        "/v1/subjects/{subject_id}/proof": {
            "get": _op(
                "The subject's proof bundle (careledger-proof/2)",
                {200: ("The bundle", "ProofBundle")},
                (SUBJECT,),
                (400, 409),
            )
        },
        "/v1/subjects/{subject_id}/personal-data": {
            "get": _op(
                "A subject's personal data, to a DPO, for a purpose recorded first",
                {200: ("The records, after the read was recorded", "Records")},
                (SUBJECT, _param("purpose", required=True, minLength=8)),
                (400, 403),
            )
        },
        "/v1/ledger/position": {"get": _op("Ledger and stream sequence", {200: ("", "Position")})},
        "/v1/ledger/verify": {
            "get": _op(
                "Everything recomputed",
                {200: ("All agrees", "Verify"), 409: ("Names what differs", "Verify")},
            )
        },
        "/v1/exports": {
            "post": _op("Every register and the log as files", FILES, (FORMAT,), (400,))
        },
        "/v1/returns/complaints": {
            "get": _op("The complaints return", {200: ("", "Return")}, RETURN, (400,)),
            "post": _op("The complaints return as files", FILES, (*RETURN, FORMAT), (400,)),
        },
        "/v1/ledger/checkpoint": {
            "get": _op("The latest checkpoint", CHECKPOINT, (), (404,), TEXT),
            "post": _op("Sign one of everything applied", CHECKPOINT, (), (404,), TEXT),
        },
        "/v1/ledger/key": {"get": _op("The note verifier key", {200: ("", "")}, media=TEXT)},
        "/v1/ledger/proofs/inclusion": {
            "get": _op(
                "RFC 9162 inclusion proof of an event in the tree of size leaves",
                {200: ("The proof", "Inclusion")},
                (_param("sequence", required=True, **WHOLE), _param("size", **WHOLE)),
                (400, 404),
            )
        },
        "/v1/ledger/proofs/consistency": {
            "get": _op(
                "RFC 9162 consistency proof between two tree sizes",
                {200: ("The proof", "Consistency")},
                (_param("from", required=True, **WHOLE), _param("to", **WHOLE)),
                (400,),
            )
        },
        "/v1/ledger/integrity": {
            "get": _op(
                "The ledger's own checks",
                {200: ("Passed or running", "Integrity"), 409: ("Failed", "Integrity")},
            )
        },
        "/healthz": {"get": _op("Alive", {200: ("", "Health")}, open_=True)},
        "/readyz": {
            "get": _op("Ready", {200: ("", "Ready"), 503: ("Not ready", "Ready")}, open_=True)
        },
        OPENAPI_PATH: {"get": _op("This document", {200: ("", "Document")}, open_=True)},
    }


def openapi_document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CareLedger ledger",
            "version": "1",
            "description": "The auditors' API: registers, history, proofs, exports, returns.",
        },
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An auditor's token; the auditors file "
                    "(CARELEDGER_AUDITORS_FILE) holds its SHA-256 and roles",
                }
            },
        },
    }


def render() -> str:
    """The committed form: sorted keys, two-space indent, trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1] if len(sys.argv) > 1 else OPENAPI_FILE).write_text(render())
