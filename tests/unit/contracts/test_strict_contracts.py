"""No personal data enters the log by accident: every object an event (or a command) holds
refuses unknown fields, and every string an event holds is an id, a code, a word of a
vocabulary or a label documented as never personal data, none of which takes an e-mail
address, a control character or a bidi control."""

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from contract_examples import EXAMPLES

from careledger.contracts import InvalidPayload, decode_command, decode_event, encode
from careledger.contracts.commands import COMMAND_TYPES, EscalateComplaint
from careledger.contracts.events import EVENT_TYPES, ComplaintEscalated
from careledger.contracts.vocabulary import LABEL_PATTERN, REFERENCE_PATTERN

Leaf = tuple[str, mi.Type, dict[str, Any]]  # path, type, its JSON Schema extras


def leaves(t: mi.Type, path: str, extra: dict[str, Any] | None = None) -> Iterator[Leaf]:
    """Every value type below ``t`` that is not a container, with its path."""
    if isinstance(t, mi.Metadata):
        yield from leaves(t.type, path, {**(extra or {}), **(t.extra_json_schema or {})})
    elif isinstance(t, mi.UnionType):
        for option in t.types:
            yield from leaves(option, path, extra)
    elif isinstance(t, mi.ListType):
        yield from leaves(t.item_type, f"{path}[]", extra)
    elif isinstance(t, mi.StructType):
        yield path, t, extra or {}
        for field in t.fields:
            yield from leaves(field.type, f"{path}.{field.encode_name}")
    else:
        yield path, t, extra or {}


def every(types: tuple[type[msgspec.Struct], ...], kind: type[mi.Type]) -> list[Leaf]:
    found = [leaf for cls in types for leaf in leaves(mi.type_info(cls), cls.__name__)]
    return [leaf for leaf in found if isinstance(leaf[1], kind)]


STRUCTS = every(EVENT_TYPES + COMMAND_TYPES, mi.StructType)
EVENT_STRINGS = every(EVENT_TYPES, mi.StrType)
LABELS = [
    (path, t, extra)
    for path, t, extra in EVENT_STRINGS
    if isinstance(t, mi.StrType) and t.pattern in (LABEL_PATTERN, REFERENCE_PATTERN)
]
NOT_IN_ANY = [
    "maria.garcia@example.com",
    "@maria_g",
    "rec\x00",
    "rec\x1b[31m",
    "rec\x7f",
    "rec\x85",
    "rec\u061c",
    "rec\u200e",
    "rec\u200f",
    "rec\u2028",
    "rec\u2029",
    *(f"rec{chr(c)}7" for c in range(0x202A, 0x202F)),
    *(f"rec{chr(c)}7" for c in range(0x2066, 0x206A)),
]


def test_every_object_an_event_or_a_command_holds_refuses_unknown_fields() -> None:
    lax = {p for p, t, _ in STRUCTS if isinstance(t, mi.StructType) and not t.forbid_unknown_fields}

    assert len(STRUCTS) > len(EVENT_TYPES + COMMAND_TYPES)
    assert lax == set()


@pytest.mark.parametrize(("path", "t", "extra"), EVENT_STRINGS, ids=[p for p, *_ in EVENT_STRINGS])
def test_every_string_an_event_holds_has_a_pattern_and_a_bounded_length(
    path: str, t: mi.StrType, extra: dict[str, Any]
) -> None:
    assert t.pattern, f"{path}: a free string; make it an id, a code, a Literal or a label"
    repeats = re.search(r"[*+]|\{\d+,\}", t.pattern)
    assert t.max_length is not None or not repeats, f"{path}: give it a max_length"


@pytest.mark.parametrize(("path", "t", "extra"), EVENT_STRINGS, ids=[p for p, *_ in EVENT_STRINGS])
def test_no_string_an_event_holds_takes_an_email_address_a_control_or_a_bidi_character(
    path: str, t: mi.StrType, extra: dict[str, Any]
) -> None:
    assert t.pattern
    accepted = [text for text in NOT_IN_ANY if re.search(t.pattern, text)]

    assert accepted == []


@pytest.mark.parametrize(("path", "t", "extra"), LABELS, ids=[p for p, *_ in LABELS])
def test_every_label_an_event_holds_says_it_is_never_personal_data(
    path: str, t: mi.StrType, extra: dict[str, Any]
) -> None:
    assert "A label, never personal data" in extra.get("description", "")
    assert t.max_length == 120


def test_the_labels_are_the_names_references_versions_and_reasons_and_nothing_else() -> None:
    fields = {path.split(".", 1)[1] for path, *_ in LABELS}

    assert fields == {
        "controller",
        "notice.version",
        "evidence.reference",
        "body_name",
        "external_reference",
        "escalation_rights_text_version",
        "retained[].reason",
    }


ESCALATED = decode_event((EXAMPLES / "events/ComplaintEscalated/valid.json").read_bytes())
assert isinstance(ESCALATED, ComplaintEscalated)


def escalated(**labels: str) -> bytes:
    return encode(msgspec.structs.replace(ESCALATED, **labels))


@pytest.mark.parametrize(
    "name",
    ["Oficina Municipal de Información al Consumidor de Sevilla", "Ombudsman (Financial)"],
)
def test_a_body_name_in_any_script_with_spaces_and_punctuation_is_a_label(name: str) -> None:
    event = decode_event(escalated(body_name=name))

    assert isinstance(event, ComplaintEscalated) and event.body_name == name


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"body_name": "maria.garcia@example.com"}, "$.body_name"),
        ({"body_name": "OMIC \u202eallives"}, "$.body_name"),
        ({"body_name": "OMIC\x85Sevilla"}, "$.body_name"),
        ({"external_reference": "OMIC-SE 2025 Maria Garcia"}, "$.external_reference"),
        ({"external_reference": "-OMIC-SE"}, "$.external_reference"),
    ],
)
def test_a_label_breaking_its_rule_is_refused_in_words_naming_the_field(
    labels: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidPayload) as refused:
        decode_event(escalated(**labels))

    error = refused.value.error
    assert (error.field, error.rule) == (field, "pattern")
    assert error.message.startswith("Expected a label, never personal data: ")
    assert "regex" not in error.message


def test_a_command_is_refused_the_label_its_event_could_not_hold() -> None:
    payload = msgspec.json.decode(encode(ESCALATED))
    command = {k: v for k, v in payload.items() if k in EscalateComplaint.__struct_fields__}
    command |= {"type": "EscalateComplaint", "client_id": "omic-referrals"}
    command["body_name"] = "maria.garcia@example.com"

    with pytest.raises(InvalidPayload) as refused:
        decode_command(msgspec.json.encode(command), EscalateComplaint)

    assert (refused.value.error.field, refused.value.error.rule) == ("$.body_name", "pattern")
