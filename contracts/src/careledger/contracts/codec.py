"""Encoders and decoders, built once: the only way bytes become contracts and back."""

import datetime as dt
import functools
from typing import Any, TypeVar

import msgspec
import msgspec.inspect

from careledger.contracts.commands import Command
from careledger.contracts.errors import FieldError, field_error_from_validation
from careledger.contracts.events import AnyEvent, Event

C = TypeVar("C", bound=Command)

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(AnyEvent)
_command_decoders: dict[type[Command], msgspec.json.Decoder[Any]] = {}


class InvalidPayload(ValueError):
    """Bytes that are not a valid contract, with the field-level reason."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(f"{error.field}: {error.message}")
        self.error = error


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode_event(data: bytes) -> Event:
    """Decode any event. Like commands, events and every part of them are strict: an
    unknown field is refused (rule ``unknown_field``) before its value is read."""
    event: Event = _decoded(_event_decoder, data)
    return event


def decode_command(data: bytes, command_type: type[C]) -> C:
    """Decode a command strictly: unknown fields are refused at every depth."""
    decoder = _command_decoders.get(command_type)
    if decoder is None:
        decoder = _command_decoders[command_type] = msgspec.json.Decoder(command_type)
    command: C = _decoded(decoder, data)
    return command


def _decoded(decoder: msgspec.json.Decoder[Any], data: bytes) -> Any:
    """``data`` decoded, or InvalidPayload saying why not: never another exception (one
    would stop the ledger on that message, again at every redelivery)."""
    try:
        value = decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidPayload(field_error_from_validation(exc)) from exc
    except UnicodeDecodeError as exc:  # invalid UTF-8 inside a JSON string
        raise InvalidPayload(
            FieldError(field="$", rule="json", message=f"invalid UTF-8: {exc.reason}")
        ) from exc
    except RecursionError:
        raise InvalidPayload(
            FieldError(field="$", rule="depth", message="JSON nested over 1000 levels deep")
        ) from None
    beyond = _instant_beyond_utc(value)
    if beyond:
        raise InvalidPayload(
            FieldError(
                field=beyond,
                rule="instant",
                message="this instant falls outside the years 1-9999 in UTC, where every "
                "instant is stored",
            )
        )
    return value


def _instant_beyond_utc(value: Any, path: str = "$") -> str | None:
    """The path of the first instant whose UTC form is not a date of years 1-9999 (only
    one in year 1 or 9999 can be: offsets are under a day). Only fields whose type can
    hold an instant are visited: walking every field of every event cost more than
    decoding it (docs/performance.md, 'Tried, measured, kept')."""
    if isinstance(value, dt.datetime):
        if value.year in (1, 9999):
            try:
                value.astimezone(dt.UTC)
            except OverflowError:
                return path
    elif isinstance(value, msgspec.Struct):
        for name, key in _instant_fields(type(value)):
            found = _instant_beyond_utc(getattr(value, name), f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _instant_beyond_utc(item, f"{path}[{index}]")
            if found:
                return found
    return None


@functools.cache
def _instant_fields(struct: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON name) of each field of ``struct`` whose type can hold an instant."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple((f.name, f.encode_name) for f in info.fields if _can_hold_instant(f.type))


def _can_hold_instant(t: msgspec.inspect.Type) -> bool:
    inspect = msgspec.inspect
    if isinstance(t, inspect.DateTimeType):
        return True
    if isinstance(t, inspect.Metadata):
        return _can_hold_instant(t.type)
    if isinstance(t, inspect.UnionType):
        return any(_can_hold_instant(u) for u in t.types)
    if isinstance(t, inspect.ListType | inspect.VarTupleType | inspect.SetType):
        return _can_hold_instant(t.item_type)
    if isinstance(t, inspect.StructType):
        return any(_can_hold_instant(f.type) for f in t.fields)
    return False
