"""The calendars a deployment knows: the shipped catalogue, the holidays library, overrides.

The catalogue (``calendars.toml``) maps a calendar id such as ``ES-MD`` or ``GB-SCT`` to a
``holidays`` country and subdivision and a timezone. Holidays come from the library for the
supported years only; operator override files add or remove days and are recorded.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import holidays

from careledger.ledger.deadlines._calendar import Calendar
from careledger.ledger.deadlines._catalogue import (
    DEFAULT_YEARS,
    CalendarSpec,
    calendar_specs,
    supported_years,
)
from careledger.ledger.deadlines._errors import PolicyFileError, UnknownCalendar
from careledger.ledger.deadlines._overrides import Override, load_overrides

ENV_DIR = "CARELEDGER_CALENDARS_DIR"
HOLIDAYS_VERSION: str = holidays.__version__  # type: ignore[attr-defined]  # not in its __all__


class Calendars:
    """Calendars by id, built on first use from their specs and the overrides."""

    def __init__(
        self,
        specs: Iterable[CalendarSpec] = (),
        overrides: Sequence[Override] = (),
        *,
        years: tuple[int, int] = DEFAULT_YEARS,
        prebuilt: Iterable[Calendar] = (),
    ) -> None:
        self._specs = {s.calendar_id: s for s in specs}
        self._overrides = tuple(overrides)
        self.years = years
        self._built = {c.calendar_id: c for c in prebuilt}

    @classmethod
    def of(cls, *calendars: Calendar) -> "Calendars":
        return cls(prebuilt=calendars)

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._specs.keys() | self._built.keys()))

    def get(self, calendar_id: str) -> Calendar:
        if calendar_id not in self._built:
            spec = self._specs.get(calendar_id)
            if spec is None:
                raise UnknownCalendar(
                    f"no calendar {calendar_id!r}; known: {', '.join(self.ids())}. Define it "
                    f"in an override file (calendar, country, subdiv, timezone) in ${ENV_DIR}"
                )
            self._built[calendar_id] = self._build(spec)
        return self._built[calendar_id]

    def for_jurisdiction(self, jurisdiction: str) -> Calendar:
        """The most specific calendar: ``ES-MD`` if defined, else the national ``ES``."""
        parts = jurisdiction.split("-")
        for n in range(len(parts), 0, -1):
            candidate = "-".join(parts[:n])
            if candidate in self._specs or candidate in self._built:
                return self.get(candidate)
        return self.get(jurisdiction)

    def _build(self, spec: CalendarSpec) -> Calendar:
        first, last = self.years
        try:
            found = holidays.country_holidays(
                spec.country, subdiv=spec.subdiv, years=range(first, last + 1)
            )
        except NotImplementedError as exc:
            raise UnknownCalendar(
                f"calendar {spec.calendar_id}: holidays {HOLIDAYS_VERSION} has no "
                f"country {spec.country!r} with subdivision {spec.subdiv!r} ({exc})"
            ) from exc
        calendar = Calendar(
            calendar_id=spec.calendar_id,
            timezone=spec.timezone,
            first_year=first,
            last_year=last,
            holidays=dict(found.items()),
            holidays_version=HOLIDAYS_VERSION,
        )
        for override in (o for o in self._overrides if o.covers(spec.calendar_id)):
            calendar = _apply(calendar, override)
        return calendar


def _apply(calendar: Calendar, override: Override) -> Calendar:
    in_range = range(calendar.first_year, calendar.last_year + 1)
    removed = [d for d in override.removed if d.year in in_range]
    if override.calendar_id == calendar.calendar_id:
        for day in (d for d in removed if d not in calendar.holidays):
            raise PolicyFileError(
                f"{override.file.name}: removed {day} is not a holiday of {calendar.calendar_id} "
                f"in holidays {calendar.holidays_version}; delete that [[removed]] entry"
            )
    added = {d: name for d, name in override.added.items() if d.year in in_range}
    return calendar.with_changes(added=added, removed=removed, source=override.file)


def load_calendars(
    directory: Path | None = None,
    *,
    years: tuple[int, int] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Calendars:
    """The shipped catalogue, plus override files in ``directory`` or $CARELEDGER_CALENDARS_DIR.

    Supported years: ``years``, else ``$CARELEDGER_CALENDAR_YEARS`` ("2025-2028"), else
    2025-2028. Calendars are built on first use.
    """
    env = os.environ if environ is None else environ
    chosen = directory or (Path(env[ENV_DIR]) if env.get(ENV_DIR) else None)
    overrides = load_overrides(chosen) if chosen is not None else []
    specs = calendar_specs(overrides)
    return Calendars(specs.values(), overrides, years=years or supported_years(env))
