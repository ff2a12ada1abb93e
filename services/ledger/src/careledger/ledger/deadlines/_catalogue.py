"""The shipped calendar catalogue (``calendars.toml``), calendars defined by override files,
and the supported years."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from careledger.ledger.deadlines import _fields as f
from careledger.ledger.deadlines._errors import PolicyFileError
from careledger.ledger.deadlines._overrides import Override

ENV_YEARS = "CARELEDGER_CALENDAR_YEARS"
DEFAULT_YEARS = (2025, 2028)
CATALOGUE = Path(__file__).parent / "calendars.toml"


@dataclass(frozen=True, kw_only=True)
class CalendarSpec:
    calendar_id: str
    country: str
    subdiv: str | None
    timezone: str


def calendar_specs(overrides: Sequence[Override]) -> dict[str, CalendarSpec]:
    """The catalogue, plus calendars that override files define (country and timezone)."""
    specs = {s.calendar_id: s for s in _catalogue()}
    for o in overrides:
        if o.country or o.timezone or o.subdiv:
            if o.calendar_id in specs or not (o.country and o.timezone):
                raise PolicyFileError(
                    f"{o.file.name}: country/subdiv/timezone define a new calendar; "
                    f"{o.calendar_id} needs country and timezone and must not be in the catalogue"
                )
            specs[o.calendar_id] = CalendarSpec(
                calendar_id=o.calendar_id, country=o.country, subdiv=o.subdiv, timezone=o.timezone
            )
    return specs


def _catalogue() -> list[CalendarSpec]:
    table, _ = f.read_toml(CATALOGUE)
    entries = f.required(f.sub_table(table, "calendars", str(CATALOGUE)), "calendars", "catalogue")
    specs = []
    for calendar_id, entry in entries.items():
        where = f"{CATALOGUE} [calendars.{calendar_id}]"
        f.only(entry, {"country", "subdiv", "timezone", "name"}, where)
        specs.append(
            CalendarSpec(
                calendar_id=calendar_id,
                country=f.text(entry, "country", where),
                subdiv=f.opt_text(entry, "subdiv", where),
                timezone=f.text(entry, "timezone", where),
            )
        )
    return specs


def supported_years(env: Mapping[str, str]) -> tuple[int, int]:
    raw = env.get(ENV_YEARS)
    if not raw:
        return DEFAULT_YEARS
    match = re.fullmatch(r"\s*(\d{4})\s*-\s*(\d{4})\s*", raw)
    if not match or int(match[1]) > int(match[2]):
        raise PolicyFileError(f"{ENV_YEARS} must look like '2025-2028', got {raw!r}")
    return int(match[1]), int(match[2])
