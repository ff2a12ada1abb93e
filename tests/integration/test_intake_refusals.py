"""Bad input over HTTP: a clear, field-level refusal, and nothing appended."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import RunningIntake
from tests.support.scenario import Story
from tests.support.streams import stored_messages

EXAMPLES = Path(__file__).parents[2] / "contracts" / "examples" / "commands"
KEY = {"Idempotency-Key": "refusal-test-key"}


def invalid_examples() -> list[tuple[str, Path]]:
    from careledger.contracts.commands import COMMAND_TYPES

    names = {c.__name__: c.name for c in COMMAND_TYPES}
    return [
        (names[folder.name], path)
        for folder in sorted(EXAMPLES.iterdir())
        for path in sorted((folder / "invalid").glob("*.json"))
    ]


@pytest.mark.parametrize(
    ("command", "example"),
    [(c, json.loads(p.read_text())) for c, p in invalid_examples()],
    ids=[f"{c}/{p.stem}" for c, p in invalid_examples()],
)
async def test_every_invalid_example_is_refused_naming_its_field_and_rule(
    intake: RunningIntake, command: str, example: dict[str, Any]
) -> None:
    response = await intake.client.post(
        f"/v1/commands/{command}",
        content=json.dumps(example["payload"]),
        headers=KEY | {"Content-Type": "application/json"},
    )
    expected_status = 400 if example["expect"]["rule"] == "json" else 422
    assert response.status_code == expected_status, response.text
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == (
        example["expect"]["field"],
        example["expect"]["rule"],
    )
    assert error["message"]
    assert await stored_messages(intake.server) == []


async def test_a_body_over_the_limit_is_refused_with_413(intake: RunningIntake) -> None:
    payload = dict(Story().commands())["file-complaint"]
    payload["personal"]["text"] = "x" * 200_000
    response = await intake.post("file-complaint", payload, "too-large-key")
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_a_body_that_is_not_json_content_is_refused_with_415(intake: RunningIntake) -> None:
    response = await intake.client.post(
        "/v1/commands/open-contact",
        content=b"channel=phone",
        headers=KEY | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "Content-Type"


async def test_invalid_utf8_and_broken_json_are_400_and_json_of_the_wrong_shape_422(
    intake: RunningIntake,
) -> None:
    for body, status, rule in (
        (b"\xff\xfe\xfd", 400, "json"),
        (b'{"subject_id": ', 400, "json"),
        (b"[1, 2]", 422, "type"),
    ):
        response = await intake.client.post(
            "/v1/commands/open-contact",
            content=body,
            headers=KEY | {"Content-Type": "application/json"},
        )
        assert response.status_code == status, body
        error = response.json()["errors"][0]
        assert (error["field"], error["rule"]) == ("$", rule), body
    assert await stored_messages(intake.server) == []


async def test_a_missing_idempotency_key_is_refused_before_anything_else(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["open-contact"]
    response = await intake.client.post("/v1/commands/open-contact", json=payload)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "Idempotency-Key",
        "rule": "required",
        "message": response.json()["errors"][0]["message"],
    }


async def test_a_nested_unknown_field_is_refused_rather_than_dropped(
    intake: RunningIntake,
) -> None:
    payload = dict(Story().commands())["give-consent"]
    payload["notice"] = payload["notice"] | {"shwon_at": "2026-01-01T00:00:00Z"}
    response = await intake.post("give-consent", payload, "nested-unknown-key")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "$.notice.shwon_at"
