"""The example payloads under ``contracts/examples`` and the contract classes they exercise."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from careledger.contracts import codec
from careledger.contracts.commands import COMMAND_TYPES, Command
from careledger.contracts.events import EVENT_TYPES, Event

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "contracts" / "examples"
SCHEMAS = REPO / "contracts" / "schemas"
FAMILIES = ("events", "commands")


def tag_of(cls: type[msgspec.Struct]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


CLASSES: dict[str, dict[str, type[msgspec.Struct]]] = {
    "events": {tag_of(cls): cls for cls in EVENT_TYPES},
    "commands": {tag_of(cls): cls for cls in COMMAND_TYPES},
}


@dataclass(frozen=True)
class Example:
    family: str
    type: str
    name: str
    payload: dict[str, Any]
    expect_field: str = ""
    expect_rule: str = ""

    @property
    def id(self) -> str:
        return f"{self.family}/{self.type}/{self.name}"

    @property
    def schema(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            (SCHEMAS / self.family / f"{self.type}.json").read_text(encoding="utf-8")
        )
        return document

    def decode(self, payload: dict[str, Any] | None = None) -> Event | Command:
        """Decode as the service would: any event, or the command class named by the tag."""
        data = json.dumps(self.payload if payload is None else payload).encode()
        if self.family == "events":
            return codec.decode_event(data)
        command = CLASSES["commands"][self.payload.get("type", self.type)]
        assert issubclass(command, Command)
        return codec.decode_command(data, command)


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def type_folders() -> list[tuple[str, str]]:
    return [(f, d.name) for f in FAMILIES for d in sorted((EXAMPLES / f).iterdir()) if d.is_dir()]


def valid_examples() -> list[Example]:
    return [
        Example(family, type_, "valid", _read(EXAMPLES / family / type_ / "valid.json"))
        for family, type_ in type_folders()
        if (EXAMPLES / family / type_ / "valid.json").exists()
    ]


def invalid_examples() -> list[Example]:
    found = []
    for family, type_ in type_folders():
        for path in sorted((EXAMPLES / family / type_ / "invalid").glob("*.json")):
            case = _read(path)
            expect = case["expect"]
            found.append(
                Example(family, type_, path.stem, case["payload"], expect["field"], expect["rule"])
            )
    return found
