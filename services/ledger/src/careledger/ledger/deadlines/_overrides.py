"""Operator calendar override files: holidays the library lacks, or wrongly has.

Format (TOML)::

    calendar = "ES-MD"           # applies to ES-MD; a file for "ES" applies to every ES-*
    # country, subdiv, timezone: only to define a calendar the catalogue lacks
    [[added]]
    date = 2026-05-15
    name = "San Isidro (Madrid city)"
    source = "BOCM, calendario laboral 2026"
    [[removed]]
    date = 2026-12-26
    reason = "..."
    source = "..."
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from careledger.ledger.deadlines import _fields as f
from careledger.ledger.deadlines._errors import PolicyFileError
from careledger.ledger.deadlines._model import SourceFile

_TOP = {"calendar", "country", "subdiv", "timezone", "name", "source", "added", "removed"}


@dataclass(frozen=True, kw_only=True)
class Override:
    calendar_id: str
    added: dict[dt.date, str]
    removed: tuple[dt.date, ...]
    file: SourceFile
    country: str | None = None
    subdiv: str | None = None
    timezone: str | None = None

    def covers(self, calendar_id: str) -> bool:
        """A file for "ES" applies to "ES" and every "ES-*" calendar."""
        return calendar_id == self.calendar_id or calendar_id.startswith(self.calendar_id + "-")


def load_overrides(directory: Path) -> list[Override]:
    if not directory.is_dir():
        raise PolicyFileError(f"calendar override directory {directory} does not exist")
    return [parse_override(path) for path in sorted(directory.glob("*.toml"))]


def parse_override(path: Path) -> Override:
    table, raw = f.read_toml(path)
    where = str(path)
    f.only(table, _TOP, where)
    added: dict[dt.date, str] = {}
    for i, entry in enumerate(f.tables(table, "added", where)):
        at = f"{where} added[{i}]"
        f.only(entry, {"date", "name", "source"}, at)
        f.text(entry, "source", at)  # a local holiday must say where it comes from
        added[f.required(f.day(entry, "date", at), "date", at)] = f.text(entry, "name", at)
    removed: list[dt.date] = []
    for i, entry in enumerate(f.tables(table, "removed", where)):
        at = f"{where} removed[{i}]"
        f.only(entry, {"date", "reason", "source"}, at)
        f.text(entry, "source", at)
        removed.append(f.required(f.day(entry, "date", at), "date", at))
    return Override(
        calendar_id=f.text(table, "calendar", where),
        added=added,
        removed=tuple(removed),
        file=SourceFile(name=path.name, sha256=hashlib.sha256(raw).hexdigest()),
        country=f.opt_text(table, "country", where),
        subdiv=f.opt_text(table, "subdiv", where),
        timezone=f.opt_text(table, "timezone", where),
    )
