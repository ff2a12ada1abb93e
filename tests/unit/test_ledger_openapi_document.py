"""The ledger's committed OpenAPI document is the one the code serves, and it names every
route the ledger's app has, with its answers and auth."""

from pathlib import Path
from typing import Any

from careledger.ledger.entrypoints import history, proofs
from careledger.ledger.entrypoints.http import (
    create_export,
    healthz,
    openapi_json,
    position,
    readyz,
    register,
    timeline,
    verify_ledger,
)
from careledger.ledger.entrypoints.openapi import OPENAPI_FILE, openapi_document, render
from careledger.ledger.entrypoints.personal import OPEN_PATHS, personal_data
from careledger.ledger.entrypoints.returns import ROUTES as RETURN_ROUTES

ROOT = Path(__file__).parents[2]
HANDLERS: list[Any] = [
    register, timeline, *history.ROUTES, personal_data, position, verify_ledger,
    create_export, healthz, readyz, openapi_json, *RETURN_ROUTES, *proofs.ROUTES,
]  # fmt: skip


def test_the_committed_ledger_openapi_matches_the_code() -> None:
    committed = (ROOT / OPENAPI_FILE).read_text()
    assert committed == render(), "OpenAPI drifted from the code: run `make schemas` and commit"


def test_every_route_of_the_ledger_is_documented_with_its_method() -> None:
    routes = {
        (path.replace(":str}", "}"), method.lower())
        for handler in HANDLERS
        for path in handler.paths
        for method in handler.http_methods
    }
    documented = {(p, m) for p, ops in openapi_document()["paths"].items() for m in ops}
    assert routes == documented


def test_every_v1_route_needs_a_bearer_token_and_lists_401_with_the_refusal_shape() -> None:
    document = openapi_document()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            refusal = responses["429"]["content"]["application/json"]["schema"]["$ref"]
            assert refusal.endswith("/Refusal") and "Retry-After" in responses["429"]["headers"]
            if path in OPEN_PATHS:
                assert operation["security"] == [] and "401" not in responses
            else:
                assert path.startswith("/v1/") and operation["security"] == [{"bearer": []}]
                assert "WWW-Authenticate" in responses["401"]["headers"]
    shape = document["components"]["schemas"]["Refusal"]
    assert shape["required"] == ["status", "title", "errors"]
    assert document["components"]["schemas"]["FieldError"]["required"] == [
        "field", "rule", "message"
    ]  # fmt: skip
