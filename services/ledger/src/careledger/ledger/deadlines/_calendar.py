"""A working-day calendar: weekends, holidays for a fixed range of years, a timezone."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careledger.ledger.deadlines._errors import OutOfCalendarRange, UnknownCalendar
from careledger.ledger.deadlines._model import SourceFile

SATURDAY_SUNDAY = frozenset({5, 6})
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, kw_only=True, eq=False)
class Calendar:
    """Every date it is asked about must lie in ``first_year``..``last_year``.

    ``holidays`` maps each non-working date (besides weekends) to its name;
    ``overrides`` are the operator files that changed it.
    """

    calendar_id: str
    timezone: str
    first_year: int
    last_year: int
    holidays: Mapping[dt.date, str]
    holidays_version: str
    overrides: tuple[SourceFile, ...] = ()
    weekend: frozenset[int] = field(default=SATURDAY_SUNDAY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        # Answers already given: the calendar is immutable, and complaints share dates.
        object.__setattr__(self, "_working_from", {})
        object.__setattr__(self, "_business_days", {})
        try:
            ZoneInfo(self.timezone)  # fail now, not at the first deadline
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UnknownCalendar(
                f"calendar {self.calendar_id}: unknown timezone {self.timezone!r} "
                "(use an IANA name such as Europe/Madrid)"
            ) from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def check(self, day: dt.date) -> dt.date:
        """The date itself, if the calendar covers it; OutOfCalendarRange otherwise."""
        if not self.first_year <= day.year <= self.last_year:
            raise OutOfCalendarRange(self.calendar_id, day, self.first_year, self.last_year)
        return day

    def is_working_day(self, day: dt.date) -> bool:
        self.check(day)
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_working_day(self, after: dt.date) -> dt.date:
        """The first working day strictly after ``after``."""
        return self.on_or_after(after + _ONE_DAY)

    def on_or_after(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the next one (rolling forward)."""
        known: dict[dt.date, dt.date] = self._working_from  # type: ignore[attr-defined]
        if (found := known.get(day)) is None:
            found = day
            while not self.is_working_day(found):
                found += _ONE_DAY
            known[day] = found
        return found

    def add_business_days(self, start: dt.date, count: int) -> dt.date:
        """Day ``count`` when the first working day after ``start`` is day 1."""
        known: dict[tuple[dt.date, int], dt.date] = self._business_days  # type: ignore[attr-defined]
        if (found := known.get((start, count))) is None:
            found = start
            for _ in range(count):
                found = self.next_working_day(found)
            known[(start, count)] = found
        return found

    def with_changes(
        self,
        *,
        added: Mapping[dt.date, str] | None = None,
        removed: Iterable[dt.date] = (),
        source: SourceFile | None = None,
    ) -> "Calendar":
        """A copy with holidays added and removed, recording ``source`` if given."""
        holidays = dict(self.holidays)
        holidays.update(added or {})
        for day in removed:
            holidays.pop(day, None)
        sources = self.overrides + ((source,) if source else ())
        return replace(self, holidays=holidays, overrides=sources)
