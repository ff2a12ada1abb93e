"""The examples under contracts/examples are the contract, shown: each decodes or is refused."""

import inspect
import json
import re
from typing import Any

import msgspec
import pytest
from contract_examples import CLASSES, Example, invalid_examples, type_folders, valid_examples

from careledger.contracts import codec, commands, events
from careledger.contracts.codec import InvalidPayload
from careledger.contracts.commands import COMMAND_TYPES, Command
from careledger.contracts.events import EVENT_TYPES, Event
from careledger.contracts.vocabulary import OPAQUE_ID_PATTERN

VALID = valid_examples()
INVALID = invalid_examples()
ALL_TYPES = [(family, tag) for family, classes in CLASSES.items() for tag in classes]


def ids(examples: list[Example]) -> list[str]:
    return [example.id for example in examples]


@pytest.mark.parametrize("example", VALID, ids=ids(VALID))
def test_every_valid_example_decodes_and_survives_a_round_trip(example: Example) -> None:
    decoded = example.decode()

    again = example.decode(msgspec.json.decode(codec.encode(decoded)))

    assert again == decoded
    assert type(decoded) is CLASSES[example.family][example.type]


@pytest.mark.parametrize("example", INVALID, ids=ids(INVALID))
def test_every_invalid_example_is_refused_naming_the_expected_field_and_rule(
    example: Example,
) -> None:
    with pytest.raises(InvalidPayload) as refused:
        example.decode()

    error = refused.value.error
    assert (error.field, error.rule) == (example.expect_field, example.expect_rule), error.message
    assert error.message.strip()


@pytest.mark.parametrize(("family", "tag"), ALL_TYPES, ids=[f"{f}/{t}" for f, t in ALL_TYPES])
def test_every_event_and_command_type_has_a_valid_example_and_three_invalid_ones(
    family: str, tag: str
) -> None:
    valid = [e for e in VALID if (e.family, e.type) == (family, tag)]
    invalid = [e for e in INVALID if (e.family, e.type) == (family, tag)]

    assert len(valid) == 1, f"add contracts/examples/{family}/{tag}/valid.json"
    assert len(invalid) >= 3, f"add at least 3 files to contracts/examples/{family}/{tag}/invalid/"


def test_no_example_folder_names_a_type_that_does_not_exist() -> None:
    assert set(type_folders()) <= set(ALL_TYPES)


@pytest.mark.parametrize("example", VALID, ids=ids(VALID))
def test_a_valid_example_carries_the_type_of_its_folder(example: Example) -> None:
    assert example.payload["type"] == example.type


_ID = re.compile(OPAQUE_ID_PATTERN)
_HASH = re.compile(r"^[0-9a-f]{64}$")
_PERSONAL = re.compile(r"@|\+\d[\d ]{8,}|\d{9,}")  # e-mail, phone


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *_strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


EVENT_EXAMPLES = [e for e in VALID + INVALID if e.family == "events"]


def shown_refused(example: Example) -> object:
    """The payload without the field an invalid example is refused for: an example may
    hold an e-mail address there, to show that it is refused."""
    payload = json.loads(json.dumps(example.payload))
    steps = re.findall(r"\.(\w+)|\[(\d+)\]", example.expect_field)
    if steps:
        *parents, last = steps
        holder = payload
        for key, index in parents:
            holder = holder[key] if key else holder[int(index)]
        holder.pop(last[0], None)
    return payload


@pytest.mark.parametrize("example", EVENT_EXAMPLES, ids=ids(EVENT_EXAMPLES))
def test_event_examples_carry_no_email_address_or_phone_number(example: Example) -> None:
    suspicious = [
        text
        for text in _strings(shown_refused(example))
        if not (_ID.match(text) or _HASH.match(text)) and _PERSONAL.search(text)
    ]

    assert suspicious == [], "events hold a PersonalRef to the vault, never the data itself"


EVENT_VALID = [e for e in VALID if e.family == "events"]
COMMAND_VALID = [e for e in VALID if e.family == "commands"]


def objects_in(value: object, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    """Every JSON object in ``value`` with its path: the top level, parts, list items."""
    if isinstance(value, dict):
        held = [found for key, item in value.items() for found in objects_in(item, f"{path}.{key}")]
        return [(path, value), *held]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in objects_in(item, f"{path}[{i}]")]
    return []


EVENT_OBJECTS = [
    (example, path) for example in EVENT_VALID for path, _ in objects_in(example.payload)
]


@pytest.mark.parametrize(
    ("example", "path"), EVENT_OBJECTS, ids=[f"{e.id}:{p}" for e, p in EVENT_OBJECTS]
)
def test_events_refuse_an_unknown_field_in_every_object_they_hold(
    example: Example, path: str
) -> None:
    payload = json.loads(json.dumps(example.payload))
    dict(objects_in(payload))[path]["email"] = "maria.garcia@example.com"

    with pytest.raises(InvalidPayload) as refused:
        example.decode(payload)

    assert (refused.value.error.field, refused.value.error.rule) == (
        f"{path}.email",
        "unknown_field",
    )


def test_every_object_an_event_can_hold_appears_in_some_valid_example() -> None:
    held = {path.split(".", 1)[-1] for _, path in EVENT_OBJECTS if path != "$"}

    assert {"actor", "source", "personal", "notice", "evidence", "redress", "retained[0]"} <= held


@pytest.mark.parametrize("example", COMMAND_VALID, ids=ids(COMMAND_VALID))
def test_commands_refuse_an_unknown_top_level_field(example: Example) -> None:
    with pytest.raises(InvalidPayload) as refused:
        example.decode({**example.payload, "sentiment_score": 0.42})

    assert refused.value.error.field == "$.sentiment_score"
    assert refused.value.error.rule == "unknown_field"


def concrete(base: type, module: str) -> set[type]:
    """The classes of ``module`` below ``base`` that nothing derives from."""
    below: list[type] = base.__subclasses__()
    if not below:
        return {base} if base.__module__ == module else set()
    return set().union(*(concrete(sub, module) for sub in below))


def test_the_event_union_holds_every_event_class_each_tagged_with_its_name() -> None:
    assert set(EVENT_TYPES) == concrete(Event, events.__name__)
    assert [c.__struct_config__.tag for c in EVENT_TYPES] == [c.__name__ for c in EVENT_TYPES]


def test_the_command_union_holds_every_command_class_each_tagged_with_its_name() -> None:
    assert set(COMMAND_TYPES) == concrete(Command, commands.__name__)
    assert [c.__struct_config__.tag for c in COMMAND_TYPES] == [c.__name__ for c in COMMAND_TYPES]


@pytest.mark.parametrize("cls", EVENT_TYPES + COMMAND_TYPES, ids=lambda c: c.__name__)
def test_every_contract_declares_its_tag_explicitly_in_its_class_statement(cls: type) -> None:
    # An implicit tag (tag=True) would follow a rename of the class; an explicit one cannot.
    statement = inspect.getsource(cls).split(":\n", 1)[0]

    assert cls.__struct_config__.tag_field == "type"
    assert f'tag="{cls.__name__}"' in statement
