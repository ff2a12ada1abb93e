"""The deadline policy engine: statutory and policy deadlines as data, computed purely.

Regimes are TOML files (shipped in ``regimes/``, plus ``$CARELEDGER_REGIMES_DIR``);
calendars come from the ``holidays`` library (``calendars.toml`` names them) plus operator
override files (``$CARELEDGER_CALENDARS_DIR``). Every deadline records its regime version,
its calendar, the library version and the override files used, with a short explanation.
``bodies.toml`` holds the deadlines owed to external bodies after a final response
(``$CARELEDGER_BODY_DEADLINES`` replaces it).

    policy = load_policy()  # once, in the composition root; then passed where it is used
    for deadline in deadlines_for(case, policy.regimes, policy.calendars):
        print(deadline.milestone, deadline.due_date)
"""

from careledger.ledger.deadlines._bodies import BodyRule, load_body_rules
from careledger.ledger.deadlines._calendar import Calendar
from careledger.ledger.deadlines._calendars import Calendars, load_calendars
from careledger.ledger.deadlines._compute import DEFAULT_BUSINESS_HOURS_END, deadlines_for
from careledger.ledger.deadlines._errors import (
    DeadlineError,
    OutOfCalendarRange,
    PolicyFileError,
    UnknownCalendar,
    UnknownRegime,
)
from careledger.ledger.deadlines._loading import Policy, load_policy
from careledger.ledger.deadlines._model import Case, Deadline, SourceFile, Status
from careledger.ledger.deadlines._open import business_days_open
from careledger.ledger.deadlines._policy import AppliesIf, Extension, Milestone, Regime
from careledger.ledger.deadlines._regimes import load_regimes

__all__ = [
    "DEFAULT_BUSINESS_HOURS_END",
    "AppliesIf",
    "BodyRule",
    "Calendar",
    "Calendars",
    "Case",
    "Deadline",
    "DeadlineError",
    "Extension",
    "Milestone",
    "OutOfCalendarRange",
    "Policy",
    "PolicyFileError",
    "Regime",
    "SourceFile",
    "Status",
    "UnknownCalendar",
    "UnknownRegime",
    "business_days_open",
    "deadlines_for",
    "load_body_rules",
    "load_calendars",
    "load_policy",
    "load_regimes",
]
