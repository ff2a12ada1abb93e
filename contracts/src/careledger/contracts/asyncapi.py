"""AsyncAPI 3.0.0 documents of intake and the ledger, built from the contracts themselves.

FastStream's generator cannot describe msgspec Structs (faststream#2101) and intake's NATS
handlers take raw messages, so, like intake's OpenAPI, the documents are assembled here.
``python -m careledger.contracts.asyncapi contracts/asyncapi`` (``make schemas``) writes
``intake.json`` and ``ledger.json``; a test fails when they drift from the code.

Events and commands are closed at every depth alike; a command's own definition leaves its
``type`` tag optional, so in intake's document command definitions live under
``command.<Name>``.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

import msgspec

from careledger.contracts import ErrorReply, subjects
from careledger.contracts.commands import COMMAND_TYPES
from careledger.contracts.events import EVENT_TYPES, Event
from careledger.contracts.replies import Accepted
from careledger.contracts.schema import sendable, tag_of

__all__ = ["intake_document", "ledger_document", "render_all", "write_all"]

REF, COMMAND_REF = "#/components/schemas/{name}", "#/components/schemas/command.{name}"
REPLIES, STATUS = ["Accepted", "ErrorReply"], "CareLedger-Status"
Route = tuple[str, str | None, str, list[str], str]  # key, address, action, messages, about
# The ledger writes these (adapters/dead_letters.py, adapters/access_log.py); contracts
# cannot import it, so tests/unit/contracts/test_asyncapi.py checks that they agree.
DEAD_LETTER_HEADERS = {
    "CareLedger-Reason": "Why it was refused: one line, at most 1000 characters.",
    "CareLedger-Rule": "contract:<rule> when it does not decode, else the ledger rule broken.",
    "CareLedger-Original-Subject": "The subject it was published on.",
    "CareLedger-Original-Sequence": f"Its sequence in {subjects.EVENT_STREAM}.",
}
ACCESS_STREAM, ACCESS_SUBJECT = "CARELEDGER_ACCESS", "careledger.access.{subject_id}"
CHECKPOINT_STREAM, CHECKPOINT_SUBJECT = "CARELEDGER_CHECKPOINTS", "careledger.checkpoints"
PERSONAL_DATA_READ = {
    "title": "PersonalDataRead",
    "description": "One read of a data subject's personal data, recorded before it is shown.",
    "type": "object",
    "properties": {
        "read_id": {"type": "string"},
        "subject_id": {"type": "string"},
        "reader": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "purpose": {"type": "string"},
        "records": {"type": "integer"},
        "at": {"type": "string"},
    },
    "required": ["read_id", "subject_id", "reader", "roles", "purpose", "records", "at"],
}
PARAMETERS = {  # every {name} in a channel address
    "aggregate_id": {"description": "The event's contact_id, complaint_id or subject_id."},
    "sequence": {"description": f"The refused message's sequence in {subjects.EVENT_STREAM}."},
    "subject_id": {"description": "The data subject.", "location": "$message.payload#/subject_id"},
}


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def _string(description: str, **schema: str) -> dict[str, str]:
    return {"type": "string", "description": description, **schema}


def _message(name: str, payload: Any, headers: Any, required: list[str] | None = None) -> Any:
    schema = {"type": "object", "properties": headers, "required": required or sorted(headers)}
    kind = "application/json" if "$ref" in payload else "application/octet-stream"
    return {"name": name, "contentType": kind, "payload": payload, "headers": schema}


def _event(event: type[Event], required: list[str] | None = None) -> Any:
    headers = {
        subjects.MSG_ID: _string("The event_id: JetStream drops a duplicate inside its window."),
        subjects.EXPECTED_LAST_SUBJECT_SEQUENCE: _string(
            "The aggregate's last stream sequence (optimistic concurrency).", pattern="^[0-9]+$"
        ),
        subjects.EVENT_TYPE: _string("The event type tag.", const=tag_of(event)),
    }
    return _message(tag_of(event), {"$ref": REF.format(name=tag_of(event))}, headers, required)


def _document(
    service: str, about: str, components: Any, routes: list[Route], reply: str = ""
) -> dict[str, Any]:
    """Channels and, for routes with an action, operations; each ``receive`` operation is
    answered on channel ``reply``, when given."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for key, address, action, messages, description in routes:
        names = re.findall(r"{(\w+)}", address or "")
        channels[key] = {"address": address, "description": description} | {
            "messages": {m: _ref("components", "messages", m) for m in messages},
            **({"parameters": {n: PARAMETERS[n] for n in names}} if names else {}),
        }
        if action:
            refs = [_ref("channels", key, "messages", m) for m in messages]
            operations[key] = {"action": action, "channel": _ref("channels", key), "messages": refs}
    for operation in operations.values():
        if reply and operation["action"] == "receive":
            refs = [_ref("channels", reply, "messages", m) for m in channels[reply]["messages"]]
            operation["reply"] = {"channel": _ref("channels", reply), "messages": refs}
    info = {"title": f"CareLedger {service}", "version": "1", "description": about}
    return {"asyncapi": "3.0.0", "info": info, "defaultContentType": "application/json"} | {
        "channels": channels,
        "operations": operations,
        "components": components,
    }


def intake_document() -> dict[str, Any]:
    _, schemas = msgspec.json.schema_components(
        (*EVENT_TYPES, Accepted, ErrorReply), ref_template=REF
    )
    _, commands = msgspec.json.schema_components(COMMAND_TYPES, ref_template=COMMAND_REF)
    schemas |= {f"command.{name}": schema for name, schema in sendable(commands).items()}
    messages = {tag_of(event): _event(event) for event in EVENT_TYPES}
    for name, status in zip(REPLIES, ("201 (appended or replayed)", "4xx or 5xx"), strict=True):
        header = _string(f"The status, as over HTTP: {status}.", pattern="^[0-9]{3}$")
        messages[name] = _message(name, {"$ref": REF.format(name=name)}, {STATUS: header})
    key = _string("Send it again to retry safely, at any time.", pattern="^[\\x21-\\x7e]{8,200}$")
    for tag in map(tag_of, COMMAND_TYPES):
        payload = {"$ref": COMMAND_REF.format(name=tag)}
        messages[tag] = _message(tag, payload, {subjects.IDEMPOTENCY_KEY: key})
    routes: list[Route] = [
        ("reply", None, "", REPLIES, "The requester's inbox (its reply subject).")
    ]
    for c in COMMAND_TYPES:
        about = f"Request/reply: command {tag_of(c)}, answered {' or '.join(REPLIES)}."
        routes.append((c.name, subjects.command_subject(c), "receive", [tag_of(c)], about))
    about = f"Stream {subjects.EVENT_STREAM}: a JetStream publish, awaiting its PubAck."
    for aggregate in subjects.AGGREGATES:
        address = subjects.aggregate_subject(aggregate, "{aggregate_id}")
        tags = [tag_of(e) for e in EVENT_TYPES if e.aggregate == aggregate]
        routes.append((f"{aggregate}-events", address, "send", tags, about))
    about = "Commands in by NATS request/reply; validated events appended to JetStream."
    return _document("intake", about, {"schemas": schemas, "messages": messages}, routes, "reply")


def ledger_document() -> dict[str, Any]:
    _, schemas = msgspec.json.schema_components(EVENT_TYPES, ref_template=REF)
    schemas["PersonalDataRead"] = PERSONAL_DATA_READ
    messages = {tag_of(event): _event(event, [subjects.MSG_ID]) for event in EVENT_TYPES}
    headers = {name: _string(about) for name, about in DEAD_LETTER_HEADERS.items()}
    headers[subjects.MSG_ID] = _string("dlq-<original sequence>.", pattern="^dlq-[0-9]+$")
    required, omitted = sorted(headers), "Too large to forward: the ledger keeps the bytes."
    headers["CareLedger-Payload-Omitted"] = _string(f"Only when the body is empty. {omitted}")
    original = {"description": "The refused message's bytes, unchanged (maybe not JSON)."}
    messages["DeadLetter"] = letter = _message("DeadLetter", original, headers, required)
    letter["headers"]["additionalProperties"] = _string("Its own, Nats-* as Original-Nats-*.")
    payload, read = {"$ref": REF.format(name="PersonalDataRead")}, _string("The read_id.")
    messages["PersonalDataRead"] = _message("PersonalDataRead", payload, {subjects.MSG_ID: read})
    note = {
        "type": "string",
        "description": "A C2SP signed note (UTF-8 text): a tlog-checkpoint (origin, tree size, "
        "base64 RFC 9162 root) and the ledger's Ed25519 signature line (docs/proofs.md).",
    }
    size = _string("checkpoint-<tree size>.", pattern="^checkpoint-[0-9]+$")
    messages["Checkpoint"] = checkpoint = _message("Checkpoint", note, {subjects.MSG_ID: size})
    checkpoint["contentType"] = "text/plain"
    dlq = subjects.DLQ_SUBJECTS.replace(">", "{sequence}")
    events = [tag_of(event) for event in EVENT_TYPES]
    consumed = f"Stream {subjects.EVENT_STREAM}: durable pull consumer, acked after the commit."
    dead = f"Stream {subjects.DLQ_STREAM}: what does not decode or breaks a ledger rule."
    access = f"Stream {ACCESS_STREAM}: each read, acknowledged before the data is shown."
    signed = f"Stream {CHECKPOINT_STREAM}: signed checkpoints, kept forever, never deleted."
    routes: list[Route] = [
        ("events", subjects.EVENT_SUBJECTS, "receive", events, consumed),
        ("dead-letters", dlq, "send", ["DeadLetter"], dead),
        ("personal-data-reads", ACCESS_SUBJECT, "send", ["PersonalDataRead"], access),
        ("checkpoints", CHECKPOINT_SUBJECT, "send", ["Checkpoint"], signed),
    ]
    about = "The event log consumed into DuckDB: hash chain, registers, audited reads."
    return _document("ledger", about, {"schemas": schemas, "messages": messages}, routes)


def render_all() -> dict[str, str]:
    """Both documents, as file name -> text: sorted keys, two-space indent, final newline."""
    docs = {"intake.json": intake_document(), "ledger.json": ledger_document()}
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n" for name, doc in docs.items()}


def write_all(directory: Path) -> list[Path]:
    """Write what ``render_all`` returns under ``directory``; remove stale documents."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_all()
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    for name, text in rendered.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")
    return [directory / name for name in rendered]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m careledger.contracts.asyncapi OUTPUT_DIR", file=sys.stderr)
        return 2
    print(f"wrote {len(write_all(Path(argv[0])))} files under {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
