"""CareLedger contracts: the events, commands and addresses every publisher shares.

Depends on msgspec alone, so any Python service can depend on it. Services in other
languages use the JSON Schemas generated into ``contracts/schemas/``.
"""

from careledger.contracts import commands, events, subjects
from careledger.contracts._parts import (
    Actor,
    Evidence,
    Notice,
    PersonalData,
    PersonalRef,
    Redress,
    Retention,
    Source,
)
from careledger.contracts.codec import InvalidPayload, decode_command, decode_event, encode
from careledger.contracts.errors import ErrorReply, FieldError

__all__ = [
    "Actor",
    "ErrorReply",
    "Evidence",
    "FieldError",
    "InvalidPayload",
    "Notice",
    "PersonalData",
    "PersonalRef",
    "Redress",
    "Retention",
    "Source",
    "commands",
    "decode_command",
    "decode_event",
    "encode",
    "events",
    "subjects",
]
