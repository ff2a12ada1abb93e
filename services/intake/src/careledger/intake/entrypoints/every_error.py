"""Every field and rule a refused body failed, not only the first one msgspec stopped at.

The contracts' codec stays the authority: it decides whether a body is valid and names the
first error. Only once it has refused a body does this walk the body's JSON against the
command's type, field by field (and into nested objects), converting each value with the
same msgspec types, so each error has the codec's own rule and message and its JSON path.
A rule no single field breaks (a whole-object one) is still the codec's first error.
"""

import types
from typing import Any, Union, get_args, get_origin

import msgspec

from careledger.contracts import FieldError
from careledger.contracts.errors import field_error_from_validation


def every_error(
    body: bytes, struct_type: type[msgspec.Struct], first: FieldError
) -> list[FieldError]:
    """``first`` (the codec's error) and every other field error of ``body``, in field order."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return [first]
    found = _errors(document, struct_type, "$")
    if not any(e.field == first.field for e in found):
        found.insert(0, first)
    return found


def _errors(value: Any, struct_type: type[msgspec.Struct], path: str) -> list[FieldError]:
    if not isinstance(value, dict):
        return _converted(value, struct_type, path)
    config = struct_type.__struct_config__
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct_type)}
    found: list[FieldError] = []
    for name, field in fields.items():
        at = f"{path}.{name}"
        if name not in value:
            if field.required:
                found.append(_missing(at, name))
            continue
        nested = _struct_in(field.type)
        if nested is not None and isinstance(value[name], dict):
            found.extend(_errors(value[name], nested, at))
        else:
            found.extend(_converted(value[name], field.type, at))
    if config.tag_field is not None and config.tag_field in value:
        found.extend(_tag_errors(value[config.tag_field], config.tag, f"{path}.{config.tag_field}"))
    if config.forbid_unknown_fields:
        known = set(fields) | {config.tag_field}
        found.extend(_unknown(f"{path}.{name}", name) for name in value if name not in known)
    return found


def _converted(value: Any, type_: Any, path: str) -> list[FieldError]:
    try:
        msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        error = field_error_from_validation(exc)
        return [msgspec.structs.replace(error, field=path + error.field[1:])]
    return []


def _struct_in(type_: Any) -> type[msgspec.Struct] | None:
    """The Struct a field holds (alone or beside None), if it holds exactly one."""
    if isinstance(type_, type) and issubclass(type_, msgspec.Struct):
        return type_
    if get_origin(type_) in (Union, types.UnionType):
        structs = [t for t in get_args(type_) if t is not type(None)]
        if len(structs) == 1:
            return _struct_in(structs[0])
    return None


def _tag_errors(sent: Any, tag: Any, path: str) -> list[FieldError]:
    if sent == tag:
        return []
    return [FieldError(field=path, rule="enum", message=f"Expected {tag!r}: the command's type")]


def _missing(path: str, name: str) -> FieldError:
    return FieldError(
        field=path, rule="required", message=f"Object missing required field `{name}`"
    )


def _unknown(path: str, name: str) -> FieldError:
    return FieldError(
        field=path, rule="unknown_field", message=f"Object contains unknown field `{name}`"
    )
