"""contracts/asyncapi: the AsyncAPI documents of intake and the ledger agree with the code."""

import datetime as dt
import json
import re
from typing import Any

import msgspec
import pytest
from contract_examples import REPO

from careledger.contracts import asyncapi, subjects
from careledger.contracts.commands import COMMAND_TYPES
from careledger.contracts.events import EVENT_TYPES
from careledger.contracts.schema import tag_of

DIRECTORY = REPO / "contracts" / "asyncapi"
RENDERED = asyncapi.render_all()
DOCUMENTS = {name: json.loads(text) for name, text in RENDERED.items()}
INTAKE, LEDGER = DOCUMENTS["intake.json"], DOCUMENTS["ledger.json"]
EVENT_HEADERS = {subjects.MSG_ID, subjects.EXPECTED_LAST_SUBJECT_SEQUENCE, subjects.EVENT_TYPE}


def _values_of(key: str, node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [
            found for v in node.values() for found in _values_of(key, v)
        ]
    if isinstance(node, list):
        return [found for item in node for found in _values_of(key, item)]
    return []


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow ``{"$ref": "#/..."}`` (JSON Pointer, inside ``document``) until a real node."""
    while isinstance(node, dict) and set(node) == {"$ref"}:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"{ref} points outside the document"
        node = document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            assert isinstance(node, dict) and token in node, f"{ref} does not resolve"
            node = node[token]
    return node


def _operation(document: dict[str, Any], key: str) -> tuple[dict[str, Any], Any, list[Any]]:
    operation = document["operations"][key]
    messages = [_resolve(document, m) for m in operation["messages"]]
    return operation, _resolve(document, operation["channel"]), messages


def test_the_committed_documents_are_exactly_what_the_contracts_generate() -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in sorted(DIRECTORY.glob("*.json"))}

    stale = sorted(n for n in RENDERED.keys() | committed.keys() if RENDERED[n] != committed.get(n))
    assert stale == [], f"contracts/asyncapi is out of date ({stale}): run `make schemas`"


def test_rendering_twice_gives_the_same_text_sorted_indented_and_newline_terminated() -> None:
    assert asyncapi.render_all() == RENDERED
    assert set(RENDERED) == {"intake.json", "ledger.json"}
    for text in RENDERED.values():
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
        assert json.loads(text)["asyncapi"] == "3.0.0"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_reference_resolves_inside_its_document(name: str) -> None:
    document = DOCUMENTS[name]
    refs = _values_of("$ref", document)

    assert refs
    for ref in refs:
        _resolve(document, {"$ref": ref})


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_operations_carry_only_messages_of_their_channel(name: str) -> None:
    document = DOCUMENTS[name]
    for key, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert operation["action"] in {"send", "receive"}, key
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"])
        if "reply" in operation:
            reply = operation["reply"]["channel"]["$ref"]
            assert all(
                m["$ref"].startswith(f"{reply}/messages/") for m in operation["reply"]["messages"]
            )


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_event_type_is_a_message_with_its_schema(name: str) -> None:
    document = DOCUMENTS[name]
    _, generated = msgspec.json.schema_components(EVENT_TYPES, ref_template=asyncapi.REF)
    for cls in EVENT_TYPES:
        message = document["components"]["messages"][tag_of(cls)]

        assert _resolve(document, message["payload"]) == generated[tag_of(cls)]
        assert set(message["headers"]["properties"]) == EVENT_HEADERS
        assert message["headers"]["properties"][subjects.EVENT_TYPE]["const"] == tag_of(cls)
        assert subjects.MSG_ID in message["headers"]["required"]


def test_intake_receives_every_command_with_its_closed_schema_and_an_idempotency_key() -> None:
    for cls in COMMAND_TYPES:
        operation, channel, messages = _operation(INTAKE, cls.name)
        payload = _resolve(INTAKE, messages[0]["payload"])

        assert operation["action"] == "receive"
        assert channel["address"] == subjects.command_subject(cls)
        assert [m["name"] for m in messages] == [tag_of(cls)]
        assert payload["title"] == tag_of(cls)
        assert payload["additionalProperties"] is False
        assert "type" not in payload["required"]
        assert messages[0]["headers"]["required"] == [subjects.IDEMPOTENCY_KEY]
        replies = [_resolve(INTAKE, m) for m in operation["reply"]["messages"]]
        assert [r["name"] for r in replies] == ["Accepted", "ErrorReply"]
        assert all(r["headers"]["required"] == ["CareLedger-Status"] for r in replies)


def test_command_and_event_definitions_are_closed_at_every_depth() -> None:
    for document in (INTAKE, LEDGER):
        for name, schema in document["components"]["schemas"].items():
            if name in {"Accepted", "ErrorReply", "FieldError", "PersonalDataRead"}:
                continue
            assert schema["additionalProperties"] is False, name
            if name.startswith("command."):
                assert all(
                    r.startswith(asyncapi.REF.format(name="command."))
                    for r in _values_of("$ref", schema)
                )


def test_intake_appends_each_event_to_its_aggregate_subject_with_all_three_headers() -> None:
    for cls in EVENT_TYPES:
        operation, channel, messages = _operation(INTAKE, f"{cls.aggregate}-events")

        assert operation["action"] == "send"
        assert channel["address"] == subjects.aggregate_subject(cls.aggregate, "{aggregate_id}")
        assert tag_of(cls) in [m["name"] for m in messages]
        message = INTAKE["components"]["messages"][tag_of(cls)]
        assert set(message["headers"]["required"]) == EVENT_HEADERS


def test_the_ledger_receives_every_event_and_sends_dead_letters_and_read_records() -> None:
    operation, channel, messages = _operation(LEDGER, "events")
    assert (operation["action"], channel["address"]) == ("receive", subjects.EVENT_SUBJECTS)
    assert [m["name"] for m in messages] == [tag_of(cls) for cls in EVENT_TYPES]

    for key, message in [
        ("dead-letters", "DeadLetter"),
        ("personal-data-reads", "PersonalDataRead"),
    ]:
        operation, _, messages = _operation(LEDGER, key)
        assert operation["action"] == "send"
        assert [m["name"] for m in messages] == [message]


def _addresses(document: dict[str, Any]) -> set[str | None]:
    return {channel["address"] for channel in document["channels"].values()}


def test_every_channel_address_is_a_subject_the_contracts_name() -> None:
    commands = {subjects.command_subject(cls) for cls in COMMAND_TYPES}
    events = {subjects.aggregate_subject(a, "{aggregate_id}") for a in subjects.AGGREGATES}
    dead_letters = subjects.DLQ_SUBJECTS.removesuffix(">") + "{sequence}"

    assert _addresses(INTAKE) == commands | events | {None}  # None: the requester's inbox
    assert _addresses(LEDGER) == {
        subjects.EVENT_SUBJECTS,
        dead_letters,
        asyncapi.ACCESS_SUBJECT,
        asyncapi.CHECKPOINT_SUBJECT,
    }
    assert all(e.startswith(subjects.EVENT_SUBJECTS.removesuffix(">")) for e in events)


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_address_parameter_is_declared_and_every_declared_one_used(name: str) -> None:
    for key, channel in DOCUMENTS[name]["channels"].items():
        used = set(re.findall(r"{(\w+)}", channel["address"] or ""))
        assert set(channel.get("parameters", {})) == used, key


async def test_the_dead_letters_are_described_as_the_ledger_publishes_them() -> None:
    dead_letters = pytest.importorskip("careledger.ledger.adapters.dead_letters")
    ingest = pytest.importorskip("careledger.ledger.ingest.ingest")
    described = LEDGER["components"]["messages"]["DeadLetter"]["headers"]
    js = _RecordingJetStream()

    for sequence, data, max_payload in [(7, b"\xff", 1 << 20), (8, b"x" * 4096, 1024)]:
        original = ingest.LogMessage(
            sequence,
            "careledger.events.contact.c",
            data,
            {"Nats-Msg-Id": "e"},
            recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        rejection = ingest.Rejection(original, "contract:json", "not JSON")
        await dead_letters.DeadLetters(js, max_payload=max_payload).publish([rejection])

    [normal, omitted] = js.published
    for (subject, _, stream, headers), sequence in [(normal, 7), (omitted, 8)]:
        assert LEDGER["channels"]["dead-letters"]["address"].format(sequence=sequence) == subject
        assert stream == subjects.DLQ_STREAM
        assert set(described["required"]) <= set(headers)
        assert set(headers) - set(described["properties"]) == {"Original-Nats-Msg-Id"}
        assert re.fullmatch(
            described["properties"][subjects.MSG_ID]["pattern"], headers[subjects.MSG_ID]
        )
    assert normal[1] == b"\xff" and "CareLedger-Payload-Omitted" not in normal[3]
    assert omitted[1] == b"" and "CareLedger-Payload-Omitted" in omitted[3]


async def test_the_personal_data_reads_are_described_as_the_ledger_records_them() -> None:
    access_log = pytest.importorskip("careledger.ledger.adapters.access_log")
    js = _RecordingJetStream()

    read = await access_log.AccessLog(js).record(
        subject_id="s-1", reader="dpo", roles=frozenset({"dpo"}), purpose="audit", records=2
    )

    [(subject, data, stream, headers)] = js.published
    schema = LEDGER["components"]["schemas"]["PersonalDataRead"]
    generated = msgspec.json.schema(access_log.PersonalDataRead)["$defs"]["PersonalDataRead"]
    assert (schema["properties"], schema["required"]) == (
        generated["properties"],
        generated["required"],
    )
    assert set(json.loads(data)) == set(schema["properties"])
    assert stream == access_log.ACCESS_STREAM == asyncapi.ACCESS_STREAM
    assert LEDGER["channels"]["personal-data-reads"]["address"].format(subject_id="s-1") == subject
    assert headers == {subjects.MSG_ID: read.read_id}


class _RecordingJetStream:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, str, dict[str, str]]] = []

    async def publish(self, subject: str, payload: bytes, *, stream: str, headers: Any) -> None:
        self.published.append((subject, payload, stream, headers))


def test_the_command_line_writes_what_render_all_returns_and_drops_stale_files(
    tmp_path: Any,
) -> None:
    (tmp_path / "billing.json").write_text("{}\n")

    assert asyncapi.main([str(tmp_path)]) == 0

    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.json")} == RENDERED


def test_the_make_target_regenerates_the_documents() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")

    assert "-m careledger.contracts.asyncapi contracts/asyncapi" in makefile


def test_the_checkpoint_channel_is_the_stream_the_ledger_publishes_on() -> None:
    from careledger.runtime.streams import CHECKPOINT_STREAM, CHECKPOINT_SUBJECT

    assert (asyncapi.CHECKPOINT_STREAM, asyncapi.CHECKPOINT_SUBJECT) == (
        CHECKPOINT_STREAM,
        CHECKPOINT_SUBJECT,
    )
