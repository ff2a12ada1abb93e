"""Bytes no event can be made of are refused as InvalidPayload naming the field and rule,
never another exception: the ledger would stop on such a message at every redelivery."""

import re
from pathlib import Path

import pytest

from careledger.contracts import InvalidPayload, decode_event

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples" / "events"
RESOLVED = (EXAMPLES / "ComplaintResolved" / "valid.json").read_bytes()
GIVEN = (EXAMPLES / "ConsentGiven" / "valid.json").read_bytes()


def with_instant(data: bytes, field: str, instant: str) -> bytes:
    """``data`` with ``field`` set to ``instant`` (the last of two equal keys counts)."""
    return data.rstrip()[:-1] + f', "{field}": "{instant}"}}'.encode()


def refusal(data: bytes) -> tuple[str, str]:
    with pytest.raises(InvalidPayload) as refused:
        decode_event(data)
    return refused.value.error.field, refused.value.error.rule


@pytest.mark.parametrize("instant", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_an_instant_beyond_the_years_utc_can_hold_is_refused_by_name(instant: str) -> None:
    assert refusal(with_instant(RESOLVED, "occurred_at", instant)) == ("$.occurred_at", "instant")


def test_a_nested_instant_beyond_them_is_named_by_its_path() -> None:
    data = re.sub(rb'"shown_at": "[^"]*"', b'"shown_at": "9999-12-31T23:59:59-01:00"', GIVEN)
    assert b"9999" in data
    field, rule = refusal(data)
    assert rule == "instant" and field.endswith(".shown_at")


@pytest.mark.parametrize(
    "instant", ["9999-12-31T20:00:00-03:00", "0001-01-01T00:30:00-01:00", "9999-12-31T23:59:59Z"]
)
def test_an_instant_at_the_edge_of_those_years_is_accepted(instant: str) -> None:
    event = decode_event(with_instant(RESOLVED, "occurred_at", instant))
    assert event.occurred_at.year in (1, 9999)


def test_invalid_utf8_in_a_known_string_is_refused_as_json() -> None:
    data = RESOLVED.replace(b'"outcome": "', b'"outcome": "\xff', 1)
    assert data != RESOLVED
    assert refusal(data) == ("$", "json")


def test_json_nested_beyond_any_reader_is_refused_as_too_deep() -> None:
    # Before the type tag, which the decoder looks for first, reading past what precedes it.
    data = b'{"deep": ' + b"[" * 2000 + b"]" * 2000 + b", " + RESOLVED.lstrip()[1:]
    assert refusal(data) == ("$", "depth")


def test_an_unknown_field_is_refused_before_its_value_is_read() -> None:
    data = RESOLVED.rstrip()[:-1] + b', "deep": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    assert refusal(data) == ("$.deep", "unknown_field")


def test_an_instant_whose_year_is_spelled_with_an_escape_is_refused_too() -> None:
    data = with_instant(RESOLVED, "occurred_at", "9\\u003999-12-31T23:00:00-05:00")
    assert b"9999-" not in data
    assert refusal(data) == ("$.occurred_at", "instant")
