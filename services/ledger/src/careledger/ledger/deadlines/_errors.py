"""What can go wrong when computing a deadline, each with a message a user can act on."""


class DeadlineError(Exception):
    """Base of every error the deadline engine raises."""


class OutOfCalendarRange(DeadlineError):
    """A date falls outside the years a calendar was built for: no guess is made."""

    def __init__(self, calendar_id: str, day: object, first_year: int, last_year: int) -> None:
        super().__init__(
            f"calendar {calendar_id} covers {first_year}-{last_year}; {day} is outside it. "
            "Widen the supported years (CARELEDGER_CALENDAR_YEARS, e.g. '2025-2030') "
            "if the holidays library covers them."
        )
        self.calendar_id = calendar_id
        self.day = day


class UnknownCalendar(DeadlineError):
    """No calendar is defined for an id or a case's jurisdiction."""


class UnknownRegime(DeadlineError):
    """A case names a regime id that no loaded regime file defines."""


class PolicyFileError(DeadlineError):
    """A regime, catalogue or calendar override file is malformed; names the file and field."""
