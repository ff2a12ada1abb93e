"""The OpenAPI document of intake's HTTP API, built from the same msgspec contracts.

Built here rather than by Litestar's generator because routes decode the raw body with
the contracts' strict codec (the same as NATS), which Litestar cannot see.
"""

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from careledger.contracts import ErrorReply
from careledger.contracts.commands import COMMAND_TYPES
from careledger.contracts.replies import Accepted
from careledger.contracts.schema import sendable

REF = "#/components/schemas/{name}"
OPENAPI_FILE = "services/intake/openapi.json"


def command_path(name: str) -> str:
    return f"/v1/commands/{name}"


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(name=name)}}}


def _operation(command: type) -> dict[str, Any]:
    refusal = {"content": _json("ErrorReply")}
    return {
        "operationId": command.__name__,
        "summary": (command.__doc__ or command.__name__).strip().splitlines()[0],
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "Send the same key with the same command to retry safely; the "
                "original result is returned and nothing is appended twice, at any later time. "
                "The same key with another command is refused (422 idempotency_key_reused).",
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{8,200}$"},
            }
        ],
        "requestBody": {"required": True, "content": _json(command.__name__)},
        "security": [{"bearer": []}],
        "responses": {
            "201": {"description": "Appended (or replayed) event", "content": _json("Accepted")},
            "400": {"description": "Malformed JSON or missing Idempotency-Key", **refusal},
            "401": {
                "description": "No bearer token, or one no client in the clients file has",
                "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                **refusal,
            },
            "403": {
                "description": "The client is not granted this command (privacy commands only "
                "by name), or the body's client_id is not the client's own; nothing appended",
                **refusal,
            },
            "409": {"description": "Conflicts with the recorded history", **refusal},
            "413": {"description": "Body larger than the limit", **refusal},
            "415": {"description": "Content-Type is not application/json", **refusal},
            "422": {
                "description": "Fields or a domain rule refused it (every failing field is "
                "listed), or the Idempotency-Key was used for another command",
                **refusal,
            },
            "429": {
                "description": "Over the client's rate limit; retry after Retry-After seconds "
                "with the same Idempotency-Key",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                **refusal,
            },
            "500": {
                "description": "Unexpected failure, logged; retry with the same Idempotency-Key",
                **refusal,
            },
            "503": {
                "description": "NATS did not answer in time; whether the command was recorded is "
                "unknown: retry with the same Idempotency-Key",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                **refusal,
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        (*COMMAND_TYPES, Accepted, ErrorReply), ref_template=REF
    )
    _, commands = msgspec.json.schema_components(COMMAND_TYPES, ref_template=REF)
    components.update(sendable(commands))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CareLedger intake",
            "version": "1",
            "description": "Customer-care facts in, validated events appended to JetStream.",
        },
        "paths": {command_path(c.name): {"post": _operation(c)} for c in COMMAND_TYPES},
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A client's token; the clients file (CARELEDGER_CLIENTS_FILE) "
                    "holds its SHA-256, the client_id it may use and the commands it may send",
                }
            },
        },
    }


def render() -> str:
    """The committed form: sorted keys, two-space indent, trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1] if len(sys.argv) > 1 else OPENAPI_FILE).write_text(render())
