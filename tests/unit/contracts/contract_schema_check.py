"""A small JSON Schema checker for the keywords msgspec generates (no extra dependency).

It understands ``$ref`` into ``$defs``, ``anyOf``, ``enum``, ``type``, ``pattern``,
string and array lengths, ``date``/``date-time`` formats, ``required``, ``properties``,
``additionalProperties: false`` and ``items``: enough to say whether an example agrees
with a generated schema. When ``jsonschema`` is installed the tests use it as well.
"""

import re
from typing import Any

_FORMATS = {
    "date-time": re.compile(
        r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
    ),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}
_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_ANCHORED_END = re.compile(r"(?<!\\)\$$")


def problems(
    instance: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    """Every way ``instance`` breaks ``schema``, each as '<path>: <reason>'; [] when it fits."""
    if "$ref" in schema:
        target = root["$defs"][schema["$ref"].removeprefix("#/$defs/")]
        return problems(instance, target, root, at)
    if "anyOf" in schema:
        branches = [problems(instance, branch, root, at) for branch in schema["anyOf"]]
        return [] if any(not found for found in branches) else min(branches, key=len)
    if "enum" in schema and instance not in schema["enum"]:
        return [f"{at}: {instance!r} not in {schema['enum']}"]
    kind = schema.get("type")
    if kind is not None and not _TYPES[kind](instance):
        return [f"{at}: expected {kind}"]
    if isinstance(instance, str):
        return _string_problems(instance, schema, at)
    if isinstance(instance, list):
        return _array_problems(instance, schema, root, at)
    if isinstance(instance, dict):
        return _object_problems(instance, schema, root, at)
    return []


def _string_problems(value: str, schema: dict[str, Any], at: str) -> list[str]:
    found = []
    pattern = schema.get("pattern")
    # ECMA-262 '$' never matches before a trailing newline; Python's does: read it as '\Z'.
    if pattern is not None and not re.search(_ANCHORED_END.sub(r"\\Z", pattern), value):
        found.append(f"{at}: does not match {pattern}")
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
        found.append(f"{at}: length {len(value)} out of bounds")
    fmt = schema.get("format")
    if fmt in _FORMATS and not _FORMATS[fmt].match(value):
        found.append(f"{at}: not a {fmt}")
    return found


def _array_problems(
    value: list[Any], schema: dict[str, Any], root: dict[str, Any], at: str
) -> list[str]:
    found = []
    if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
        found.append(f"{at}: {len(value)} items out of bounds")
    for index, item in enumerate(value):
        found += problems(item, schema.get("items", {}), root, f"{at}[{index}]")
    return found


def _object_problems(
    value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], at: str
) -> list[str]:
    properties = schema.get("properties", {})
    found = [f"{at}.{name}: required" for name in schema.get("required", []) if name not in value]
    for name, item in value.items():
        if name in properties:
            found += problems(item, properties[name], root, f"{at}.{name}")
        elif schema.get("additionalProperties") is False:
            found.append(f"{at}.{name}: not allowed")
    return found
