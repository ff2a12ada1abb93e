"""The committed OpenAPI document is the one the code serves."""

from pathlib import Path

from careledger.contracts.commands import COMMAND_TYPES
from careledger.intake.entrypoints.openapi import OPENAPI_FILE, openapi_document, render

ROOT = Path(__file__).parents[2]


def test_the_committed_openapi_matches_the_code() -> None:
    committed = (ROOT / OPENAPI_FILE).read_text()
    assert committed == render(), "OpenAPI drifted from the code: run `make schemas` and commit"


def test_every_command_has_a_route_with_its_schema_and_the_idempotency_header() -> None:
    document = openapi_document()
    for command in COMMAND_TYPES:
        operation = document["paths"][f"/v1/commands/{command.name}"]["post"]
        body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body_ref.endswith(f"/{command.__name__}")
        assert command.__name__ in document["components"]["schemas"]
        assert operation["parameters"][0]["name"] == "Idempotency-Key"
        assert {"201", "400", "401", "403", "409", "422", "429", "503"} <= set(
            operation["responses"]
        )
        assert operation["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
