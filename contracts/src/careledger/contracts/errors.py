"""Field-level errors: what every rejection looks like, over HTTP and over NATS."""

import re

import msgspec

from careledger.contracts.vocabulary import (
    LABEL_PATTERN,
    LABEL_RULE,
    REFERENCE_PATTERN,
    REFERENCE_RULE,
)


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One reason a request was refused: where (a JSON path), which rule, and why."""

    field: str
    rule: str
    message: str


class ErrorReply(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every refusal. ``status`` mirrors the HTTP status code."""

    status: int
    title: str
    errors: list[FieldError] = msgspec.field(default_factory=list)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
# First match wins: the specific needles come before "expected `" (wrong type), which
# would otherwise also catch "Expected `int` >= 1"; "Invalid value" is an unknown tag.
_RULES = (
    ("missing required field", "required"),
    ("unknown field", "unknown_field"),
    ("matching regex", "pattern"),
    ("invalid enum value", "enum"),
    ("invalid value", "enum"),
    ("length", "length"),
    ("timezone", "timezone"),
    (">=", "range"),
    ("<=", "range"),
    ("expected `", "type"),
    ("invalid rfc3339", "format"),
    ("invalid", "format"),
)
# What a pattern stands for, in words, where the regex alone would not say it.
_IN_WORDS = {
    f"Expected `str` matching regex {pattern!r}": f"Expected {rule[0].lower()}{rule[1:]}"
    for pattern, rule in ((LABEL_PATTERN, LABEL_RULE), (REFERENCE_PATTERN, REFERENCE_RULE))
}


def field_error_from_validation(exc: msgspec.ValidationError | msgspec.DecodeError) -> FieldError:
    """Turn msgspec's one-line message into a FieldError naming the field and the rule."""
    match = _AT.match(str(exc))
    assert match is not None
    message, path = match["message"], match["path"] or "$"
    missing = re.match(r"Object missing required field `(?P<name>[^`]+)`", message)
    if missing:
        path = f"{path}.{missing['name']}"
    unknown = re.match(r"Object contains unknown field `(?P<name>[^`]+)`", message)
    if unknown:
        path = f"{path}.{unknown['name']}"
    lowered = message.lower()
    rule = next((name for needle, name in _RULES if needle in lowered), "malformed")
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        rule = "json"
    return FieldError(field=path, rule=rule, message=_IN_WORDS.get(message, message))
