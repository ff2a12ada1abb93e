"""A refused body names every field and rule that failed, not only the first one: the caller
fixes its request once, not once per error."""

import json
from typing import Any

from careledger.contracts import encode
from careledger.contracts.commands import FileComplaint, OpenContact
from careledger.intake.application.intake import Intake
from careledger.intake.entrypoints.submission import submit
from tests.unit.intake.builders import NOW, file_complaint, open_contact
from tests.unit.intake.fakes import InMemoryEventLog, InMemoryVault

KEY = "request-key-1"


def body_of(command: Any, **changes: Any) -> bytes:
    return json.dumps(json.loads(encode(command)) | changes).encode()


async def errors_for(command_type: type[Any], body: bytes) -> tuple[int, list[tuple[str, str]]]:
    log = InMemoryEventLog()
    reply = await submit(Intake(log, InMemoryVault(), clock=lambda: NOW), command_type, body, KEY)
    assert log.events == []
    errors = json.loads(reply.body)["errors"]
    assert all(e["message"] for e in errors)
    return reply.status, [(e["field"], e["rule"]) for e in errors]


async def test_five_invalid_fields_give_five_errors_each_with_its_field_and_rule() -> None:
    body = body_of(
        open_contact(),
        subject_id="not an id!",
        occurred_at="yesterday",
        channel="carrier-pigeon",
        direction=7,
        colour="blue",
    )

    status, errors = await errors_for(OpenContact, body)

    assert status == 422
    assert sorted(errors) == sorted(
        [
            ("$.subject_id", "pattern"),
            ("$.occurred_at", "format"),
            ("$.channel", "enum"),
            ("$.direction", "type"),
            ("$.colour", "unknown_field"),
        ]
    )


async def test_errors_inside_nested_objects_are_named_by_their_path() -> None:
    command = json.loads(encode(open_contact()))
    command["actor"] = {"kind": "robot", "id": "", "mood": "calm"}
    del command["client_id"]

    status, errors = await errors_for(OpenContact, json.dumps(command).encode())

    assert status == 422
    assert ("$.client_id", "required") in errors
    assert ("$.actor.kind", "enum") in errors
    assert ("$.actor.mood", "unknown_field") in errors
    assert len(errors) >= 3 and len(errors) == len(set(errors))


async def test_a_single_invalid_field_still_gives_exactly_its_one_error() -> None:
    status, errors = await errors_for(FileComplaint, body_of(file_complaint(), kind="whim"))

    assert (status, errors) == (422, [("$.kind", "enum")])


async def test_a_body_that_is_not_an_object_gives_one_error_about_the_whole() -> None:
    status, errors = await errors_for(OpenContact, b"[1, 2, 3]")

    assert status == 422 and len(errors) == 1 and errors[0][0] == "$"


async def test_a_body_that_is_not_json_is_still_a_400() -> None:
    status, errors = await errors_for(OpenContact, b"{not json")

    assert (status, errors) == (400, [("$", "json")])
