"""A regime as data: who it applies to, when the clock starts, and its milestones."""

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from careledger.ledger.deadlines._model import Case

Unit = Literal["business_days", "calendar_days", "calendar_weeks", "calendar_months", "hours"]
UNITS: tuple[Unit, ...] = (
    "business_days",
    "calendar_days",
    "calendar_weeks",
    "calendar_months",
    "hours",
)
ClockStart = Literal["receipt", "next_business_day"]
CLOCK_STARTS: tuple[ClockStart, ...] = ("receipt", "next_business_day")
CASE_JURISDICTION = "jurisdiction"  # calendar = "jurisdiction": the case's own calendar


@dataclass(frozen=True, kw_only=True)
class Milestone:
    name: str
    offset: int
    unit: Unit
    roll_forward: bool = True  # calendar units: a non-working due date moves to the next
    check: bool = False
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Extension:
    """Up to ``max_offset`` more units for ``milestone``, counted from the same start."""

    milestone: str
    max_offset: int
    unit: Unit
    must_notify_before_due: bool
    check: bool = False
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class AppliesIf:
    """Jurisdictions match as ISO 3166 prefixes ("ES" matches "ES-MD"; "*" matches any);
    sectors match exactly or as a dotted prefix ("financial" matches "financial.payments");
    an empty sectors or kinds list matches every sector or kind."""

    jurisdictions: tuple[str, ...]
    sectors: tuple[str, ...] = ()
    exclude_sectors: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def matches(self, case: Case) -> bool:
        return _matches(self, case.jurisdiction, case.sector, case.kind)


@functools.lru_cache(maxsize=4096)
def _matches(rule: AppliesIf, jurisdiction: str, sector: str, kind: str) -> bool:
    """``AppliesIf.matches``, remembered: complaints repeat few (jurisdiction, sector, kind)."""
    return (
        any(_jurisdiction_within(jurisdiction, j) for j in rule.jurisdictions)
        and (not rule.sectors or any(_sector_within(sector, s) for s in rule.sectors))
        and not any(_sector_within(sector, s) for s in rule.exclude_sectors)
        and (not rule.kinds or kind in rule.kinds)
    )


@dataclass(frozen=True, kw_only=True)
class Regime:
    regime_id: str
    version: int
    title: str
    effective_from: dt.date
    effective_to: dt.date | None  # last day in force, inclusive
    applies_if: AppliesIf
    clock_start: ClockStart
    calendar: str
    milestones: tuple[Milestone, ...]
    extension: Extension | None
    source: str
    check: bool = False
    note: str = ""
    origin: str = "shipped"  # "shipped" or the operator file's path

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def _jurisdiction_within(jurisdiction: str, prefix: str) -> bool:
    return prefix == "*" or jurisdiction == prefix or jurisdiction.startswith(prefix + "-")


def _sector_within(sector: str, prefix: str) -> bool:
    return sector == prefix or sector.startswith(prefix + ".")


def inconsistencies(regime: Regime) -> list[str]:
    """Rules across fields: each message says what to change."""
    problems: list[str] = []
    names = [m.name for m in regime.milestones]
    if not names:
        problems.append("at least one [[milestones]] is required")
    if len(set(names)) != len(names):
        problems.append(f"milestone names must be unique, got {names}")
    if regime.effective_to is not None and regime.effective_to < regime.effective_from:
        problems.append("effective_to must not be before effective_from")
    if regime.clock_start != "receipt" and any(m.unit == "hours" for m in regime.milestones):
        problems.append(
            "milestones in hours count from the receipt instant: use clock_start 'receipt'"
        )
    ext = regime.extension
    if ext is not None:
        target = next((m for m in regime.milestones if m.name == ext.milestone), None)
        if target is None:
            problems.append(f"extension.milestone {ext.milestone!r} is not one of {names}")
        elif target.unit != ext.unit:
            problems.append(
                f"extension.unit must equal the unit of {ext.milestone} ({target.unit})"
            )
    return problems
