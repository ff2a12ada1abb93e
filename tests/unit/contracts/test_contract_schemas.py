"""The JSON Schemas in contracts/schemas are generated from the contracts and agree with them."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from contract_examples import SCHEMAS, Example, invalid_examples, tag_of, valid_examples
from contract_schema_check import problems

from careledger.contracts import schema, subjects
from careledger.contracts.commands import COMMAND_TYPES
from careledger.contracts.events import EVENT_TYPES

VALID = valid_examples()
INVALID = invalid_examples()
RENDERED = schema.render_all()
INDEX = json.loads(RENDERED["index.json"])


def ids(examples: list[Example]) -> list[str]:
    return [example.id for example in examples]


def test_the_committed_schemas_are_exactly_what_the_contracts_generate() -> None:
    committed = {
        path.relative_to(SCHEMAS).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(SCHEMAS.rglob("*.json"))
    }

    stale = sorted(
        p for p in RENDERED.keys() | committed.keys() if RENDERED.get(p) != committed.get(p)
    )
    assert stale == [], f"contracts/schemas is out of date ({stale}): run `make schemas`"


def test_rendering_twice_gives_the_same_text_sorted_indented_and_newline_terminated() -> None:
    assert schema.render_all() == RENDERED
    for text in RENDERED.values():
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )


def test_there_is_one_schema_per_event_and_command_type_and_an_index() -> None:
    expected = {f"events/{tag_of(c)}.json" for c in EVENT_TYPES}
    expected |= {f"commands/{tag_of(c)}.json" for c in COMMAND_TYPES}

    assert set(RENDERED) == expected | {"index.json"}


@pytest.mark.parametrize("path", sorted(p for p in RENDERED if p != "index.json"))
def test_each_schema_names_itself_and_resolves_every_reference_inside_itself(path: str) -> None:
    document = json.loads(RENDERED[path])
    tag = Path(path).stem

    assert document["title"] == tag
    assert document["$id"].endswith(path)
    assert document["$ref"] == f"#/$defs/{tag}"
    refs = {r.removeprefix("#/$defs/") for r in _values_of("$ref", document)}
    assert refs <= set(document["$defs"])


def _values_of(key: str, node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [
            found for v in node.values() for found in _values_of(key, v)
        ]
    if isinstance(node, list):
        return [found for item in node for found in _values_of(key, item)]
    return []


def test_command_schemas_refuse_unknown_fields_at_every_depth_as_the_codec_does() -> None:
    for cls in COMMAND_TYPES:
        definitions = json.loads(RENDERED[f"commands/{tag_of(cls)}.json"])["$defs"]
        assert all(d["additionalProperties"] is False for d in definitions.values()), cls


def test_event_schemas_refuse_unknown_fields_at_every_depth_as_the_codec_does() -> None:
    for cls in EVENT_TYPES:
        definitions = json.loads(RENDERED[f"events/{tag_of(cls)}.json"])["$defs"]
        assert all(d["additionalProperties"] is False for d in definitions.values()), cls


def test_the_index_sends_each_event_to_the_subject_of_its_aggregate() -> None:
    entries = {entry["type"]: entry for entry in INDEX["events"]}

    assert list(entries) == [tag_of(c) for c in EVENT_TYPES]
    for cls in EVENT_TYPES:
        entry = entries[tag_of(cls)]
        assert entry["aggregate"] == cls.aggregate
        assert entry["subject"] == f"careledger.events.{cls.aggregate}.*"
        assert entry["aggregate_id_field"] in cls.__struct_fields__
        assert entry["schema"] in RENDERED


def test_the_index_sends_each_command_to_its_intake_subject() -> None:
    entries = {entry["type"]: entry for entry in INDEX["commands"]}

    assert list(entries) == [tag_of(c) for c in COMMAND_TYPES]
    for cls in COMMAND_TYPES:
        assert entries[tag_of(cls)]["subject"] == subjects.command_subject(cls)
        assert entries[tag_of(cls)]["schema"] in RENDERED


def test_the_index_names_the_stream_and_the_deduplication_header() -> None:
    assert INDEX["stream"] == subjects.EVENT_STREAM
    assert subjects.MSG_ID in INDEX["event_headers"]


@pytest.mark.parametrize("example", VALID, ids=ids(VALID))
def test_each_valid_example_satisfies_its_json_schema(example: Example) -> None:
    assert problems(example.payload, example.schema, example.schema) == []
    if importlib.util.find_spec("jsonschema") is not None:  # pragma: no cover - optional
        import jsonschema

        jsonschema.Draft202012Validator(example.schema).validate(example.payload)


@pytest.mark.parametrize("example", INVALID, ids=ids(INVALID))
def test_each_invalid_example_is_refused_by_its_json_schema_too(example: Example) -> None:
    # A publisher checking against the schema is refused where the codec would refuse it.
    assert problems(example.payload, example.schema, example.schema) != []


def test_the_command_line_writes_what_render_all_returns_and_drops_stale_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "ContactRenamed.json").write_text("{}\n")

    assert schema.main([str(tmp_path)]) == 0

    written = {
        p.relative_to(tmp_path).as_posix(): p.read_text(encoding="utf-8")
        for p in tmp_path.rglob("*.json")
    }
    assert written == RENDERED
