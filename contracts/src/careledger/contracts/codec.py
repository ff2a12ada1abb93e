"""Encoders and decoders, built once: the only way bytes become contracts and back."""

from typing import Any, TypeVar

import msgspec

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
    try:
        event: Event = _event_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidPayload(field_error_from_validation(exc)) from exc
    return event


def decode_command(data: bytes, command_type: type[C]) -> C:
    """Decode a command strictly: unknown fields are refused at every depth."""
    decoder = _command_decoders.get(command_type)
    if decoder is None:
        decoder = _command_decoders[command_type] = msgspec.json.Decoder(command_type)
    try:
        command: C = decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidPayload(field_error_from_validation(exc)) from exc
    unknown = _first_unknown_field(msgspec.json.decode(data), command)
    if unknown:
        name = unknown.rsplit(".", 1)[-1]
        raise InvalidPayload(
            FieldError(
                field=unknown,
                rule="unknown_field",
                message=f"Object contains unknown field `{name}`",
            )
        )
    return command


def _first_unknown_field(raw: Any, value: Any, path: str = "$") -> str | None:
    """Walk the raw JSON beside the decoded Struct; return the path of a field it lacks."""
    if isinstance(value, msgspec.Struct) and isinstance(raw, dict):
        config = value.__struct_config__
        known = set(value.__struct_encode_fields__) | {config.tag_field}
        for key, item in raw.items():
            if key not in known:
                return f"{path}.{key}"
            if key == config.tag_field:
                continue
            name = value.__struct_fields__[value.__struct_encode_fields__.index(key)]
            found = _first_unknown_field(item, getattr(value, name), f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list) and isinstance(raw, list):
        for index, (raw_item, item) in enumerate(zip(raw, value, strict=False)):
            found = _first_unknown_field(raw_item, item, f"{path}[{index}]")
            if found:
                return found
    return None
