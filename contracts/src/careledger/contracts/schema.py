"""JSON Schema of every event and command, generated from the Structs themselves.

``python -m careledger.contracts.schema contracts/schemas`` (``make schemas``) writes one
self-contained schema per type plus ``index.json``, which says where each one travels on
NATS. The files are committed; a test fails when they drift from the code.

Every schema says ``additionalProperties: false`` at every depth, because the codec refuses
unknown fields at every depth, events as commands (an event evolves by ``schema_version``);
command schemas leave the ``type`` tag optional.
"""

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from careledger.contracts import subjects
from careledger.contracts.commands import COMMAND_TYPES, Command
from careledger.contracts.events import EVENT_TYPES, Event

__all__ = ["render_all", "sendable", "write_all"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:careledger:schema:"


def tag_of(cls: type[msgspec.Struct]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"{cls.__name__} has no explicit string tag"
    return tag


def _document(cls: type[msgspec.Struct], path: str, description: str) -> dict[str, Any]:
    generated = msgspec.json.schema(cls)
    return {
        "$schema": DIALECT,
        "$id": f"{ID_PREFIX}{path}",
        "title": tag_of(cls),
        "description": description,
        "$ref": generated["$ref"],
        "$defs": generated["$defs"],
    }


def sendable(definitions: dict[str, Any]) -> dict[str, Any]:
    """Command definitions as a sender writes them: the ``type`` tag optional, since the
    route or subject already names the command (msgspec closes every contract Struct)."""
    commands = {tag_of(c) for c in COMMAND_TYPES}
    for name, definition in definitions.items():
        if name in commands:
            definition["required"] = [f for f in definition["required"] if f != "type"]
    return definitions


def _closed(document: dict[str, Any]) -> dict[str, Any]:
    sendable(document["$defs"])
    return document


def _aggregate_id_field(event: type[Event]) -> str:
    field = f"{event.aggregate}_id"
    assert field in event.__struct_fields__, f"{event.__name__} lacks {field}"
    return field


def _event_entry(event: type[Event]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    tag, path = tag_of(event), f"events/{tag_of(event)}.json"
    id_field = _aggregate_id_field(event)
    subject = subjects.aggregate_subject(event.aggregate, "*")
    address = subjects.aggregate_subject(event.aggregate, f"<{id_field}>")
    description = (
        f"Event {tag}: a fact about a {event.aggregate}, published on {address} "
        f"with header {subjects.MSG_ID} = event_id."
    )
    entry = {
        "type": tag,
        "aggregate": event.aggregate,
        "aggregate_id_field": id_field,
        "subject": subject,
        "schema": path,
    }
    return path, _document(event, path, description), entry


def _command_entry(command: type[Command]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    tag, path = tag_of(command), f"commands/{tag_of(command)}.json"
    subject = subjects.command_subject(command)
    description = (
        f"Command {tag}: a request to intake, sent (NATS request/reply) to {subject}. "
        "Unknown fields are refused at every depth."
    )
    entry = {"type": tag, "name": command.name, "subject": subject, "schema": path}
    return path, _closed(_document(command, path, description)), entry


def _index(events: list[dict[str, Any]], commands: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "stream": subjects.EVENT_STREAM,
        "event_subjects": subjects.EVENT_SUBJECTS,
        "event_headers": {
            subjects.MSG_ID: "required: the event_id (JetStream deduplication)",
            subjects.EVENT_TYPE: "recommended: the event type tag",
            subjects.EXPECTED_LAST_SUBJECT_SEQUENCE: "optional: optimistic concurrency",
        },
        "events": events,
        "command_headers": {
            subjects.IDEMPOTENCY_KEY: "required: 8 to 200 printable ASCII characters, "
            "the same key again to retry safely",
        },
        "commands": commands,
    }


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """Every schema file and the index, as relative path -> file text. Pure, deterministic."""
    files: dict[str, str] = {}
    event_entries, command_entries = [], []
    for event in EVENT_TYPES:
        path, document, entry = _event_entry(event)
        files[path] = _text(document)
        event_entries.append(entry)
    for command in COMMAND_TYPES:
        path, document, entry = _command_entry(command)
        files[path] = _text(document)
        command_entries.append(entry)
    files["index.json"] = _text(_index(event_entries, command_entries))
    return files


def write_all(directory: Path) -> list[Path]:
    """Write what ``render_all`` returns under ``directory``; remove stale schema files."""
    rendered = render_all()
    for family in ("events", "commands"):
        for stale in (directory / family).glob("*.json"):
            if f"{family}/{stale.name}" not in rendered:
                stale.unlink()
    written = []
    for relative, text in rendered.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m careledger.contracts.schema OUTPUT_DIR", file=sys.stderr)
        return 2
    written = write_all(Path(argv[0]))
    print(f"wrote {len(written)} files under {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
