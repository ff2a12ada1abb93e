"""Complaint deadlines: each complaint's regimes, their milestones, when each falls due and
when it was met.

One row per (complaint_id, regime_id, milestone), computed by the deadline engine
(``careledger.ledger.deadlines``) when ``ComplaintFiled`` is applied; status is computed
when the register is read (``with_status``), since "at risk" and "breached" move with time.

**Which regimes.** Every regime the engine applies: those the complaint names
(``ComplaintFiled.regimes``; a named regime applies even where its ``applies_if`` would not
match) plus every regime whose ``applies_if`` matches the case's jurisdiction, sector and
kind, each only if in force on the day of receipt. The register must show every applicable
regime, not only those a caller remembered to name; each is computed and reported on its
own rows.

**Rows without a due date** (``due`` NULL, status ``not_computed``), so that no complaint can
stop the ledger and none goes missing from the register:

- ``unknown_regime``: the complaint names a regime id no loaded regime file defines
  (``regime_version`` NULL). Add the file and run ``careledger ledger rebuild``.
- ``not_in_force``: a named regime was not in force on the day of receipt.
- ``not_computed``: the engine refused for this regime (a date beyond the calendar's
  supported years, no calendar for the jurisdiction); ``basis`` holds its message.
- ``no_applicable_regime`` (regime_id ``none``): nothing applies and nothing was named.

**Columns.** ``due`` is the instant the milestone lapses (``Deadline.ends_at``): the local
midnight after ``due_date`` for a milestone counted in days, weeks or months
(``due_whole_day``: the whole due date counts), or the due instant itself for one in hours.
``conditional`` holds the condition of extension rows (``*_extension_notice``,
``*_extended``). ``met_by`` names the event that meets a milestone:

- ``first_response`` for ``acknowledge`` and ``first_response`` milestones: the
  acknowledgement, or the resolution if it came first (a resolution answers the customer);
- ``resolution`` for ``final_response``, ``summary_resolution`` and their extended
  deadlines (``ComplaintResolved``);
- ``extension`` for ``*_extension_notice`` (``ComplaintDeadlineExtended``: the customer was
  told, with the reason, that the answer takes longer);
- NULL for holding responses and any other milestone: no event records them, so their
  ``met_at`` stays NULL.

**Extensions.** An extension notice in time (``met`` by ``ComplaintDeadlineExtended``
before the notice's due) makes the extended deadline (``*_extended``) the duty and the
base milestone ``extended``: it no longer lapses into a breach. A notice after its due
date is a ``breached`` notice, and the base milestone stays the duty.

``obligation`` says what a missed milestone means: ``duty`` (unconditional, and an event
records it: late is a breach), ``option`` (``summary_resolution``, DISP 1.5: a way to close
a complaint early, not a duty), ``conditional`` (extension rows: only if an extension is
used), ``untracked`` (no event records it), ``extended`` (a base milestone replaced by its
extended deadline). Only a ``duty`` lapses into ``breached`` while unmet; the others become
``lapsed``.

**Events.** The first filing of a complaint id stands. Acknowledgements and resolutions by
another subject than the one who filed it, repeated ones, and acknowledgements after the
resolution change nothing (as in ``complaints``).

**Determinism.** The regimes and calendars come from the ``Policy`` the projection is built
with (``projection(policy)``; the composition root loads it once from the shipped files plus
``$CARELEDGER_REGIMES_DIR`` and ``$CARELEDGER_CALENDARS_DIR``): the rows are a function of
the events and that data, so a rebuild equals the incremental result. Rows keep the regime
version and holidays version they were computed with; after changing regime or calendar
data, run ``careledger ledger rebuild`` (until then ``verify`` names the rows a rebuild
would change). A malformed policy file raises ``PolicyFileError`` when the policy is loaded,
at start: a configuration error to fix, not a fact to record.

**Loading.** Acknowledgement and resolution events name a complaint, not its regimes, so
the rows are loaded and folded per complaint: ``keys_of`` gives ``(complaint_id,)`` and
``evolve`` sees the rows of that one complaint (empty before its filing).
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintDeadlineExtended,
    ComplaintFiled,
    ComplaintResolved,
)
from careledger.ledger.deadlines import (
    Case,
    Deadline,
    DeadlineError,
    Policy,
    Regime,
    deadlines_for,
)
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import Bound, RowProjection
from careledger.ledger.domain.rows import Key, Row, Rows, Table
from careledger.ledger.domain.tally import Measures, Tally, utc_day

TABLE = Table(
    "complaint_deadlines",
    {
        "complaint_id": "VARCHAR",
        "regime_id": "VARCHAR",
        "milestone": "VARCHAR",
        "subject_id": "VARCHAR",
        "tracking_code": "VARCHAR",
        "regime_version": "INTEGER",
        "received_at": "TIMESTAMPTZ",
        "due": "TIMESTAMPTZ",
        "due_date": "DATE",
        "due_whole_day": "BOOLEAN",
        "timezone": "VARCHAR",
        "calendar_id": "VARCHAR",
        "holidays_version": "VARCHAR",
        "calendar_overrides": "VARCHAR[]",
        "basis": "VARCHAR",
        "conditional": "VARCHAR",
        "check_source": "BOOLEAN",
        "obligation": "VARCHAR",
        "met_by": "VARCHAR",
        "met_at": "TIMESTAMPTZ",
        "resolved_at": "TIMESTAMPTZ",
        "event_ids": "VARCHAR[]",
    },
    key=("complaint_id", "regime_id", "milestone"),
)
HANDLES = (ComplaintFiled, ComplaintAcknowledged, ComplaintDeadlineExtended, ComplaintResolved)

FIRST_RESPONSES = frozenset({"acknowledge", "acknowledgement", "acknowledgment", "first_response"})
RESOLUTIONS = frozenset({"final_response", "summary_resolution"})
OPTIONS = frozenset({"summary_resolution"})
NO_REGIME = ("none", "no_applicable_regime")
NOTICE, EXTENDED = "_extension_notice", "_extended"


def keys_of(applied: Applied) -> list[Key]:
    assert isinstance(applied.event, HANDLES)
    return [(applied.event.complaint_id,)]


def evolve(rows: Rows, applied: Applied, policy: Policy) -> None:
    """Fold one event into the rows of its complaint (``rows`` holds that complaint only)."""
    event = applied.event
    if isinstance(event, ComplaintFiled):
        if not rows:
            rows.update((TABLE.key_of(row), row) for row in filed_rows(event, policy))
        return
    assert isinstance(event, ComplaintAcknowledged | ComplaintDeadlineExtended | ComplaintResolved)
    mine = list(rows.values())
    if not mine or mine[0]["subject_id"] != event.subject_id or mine[0]["resolved_at"]:
        return
    if isinstance(event, ComplaintDeadlineExtended):
        _extend(rows, event)
        return
    resolution = isinstance(event, ComplaintResolved)
    for row in mine:
        changed = resolution
        if resolution:
            row["resolved_at"] = event.occurred_at
        meets = row["met_by"] == "first_response" or (resolution and row["met_by"] == "resolution")
        if meets and row["met_at"] is None:
            row["met_at"] = event.occurred_at
            changed = True
        if changed:
            row["event_ids"] = [*row["event_ids"], event.event_id]


def _extend(rows: Rows, event: ComplaintDeadlineExtended) -> None:
    """Meet every extension notice of the complaint (the first extension stands); where one
    is in time, its extended deadline becomes the duty in place of the base milestone."""
    for (complaint_id, regime_id, milestone), notice in list(rows.items()):
        if not milestone.endswith(NOTICE) or notice["met_at"] is not None:
            continue
        notice["met_at"] = event.occurred_at
        notice["event_ids"] = [*notice["event_ids"], event.event_id]
        if not in_time(event.occurred_at, notice):
            continue
        base = milestone.removesuffix(NOTICE)
        for name, obligation in ((base, "extended"), (base + EXTENDED, "duty")):
            row = rows.get((complaint_id, regime_id, name))
            if row is not None:
                row["obligation"] = obligation
                row["event_ids"] = [*row["event_ids"], event.event_id]


def in_time(instant: dt.datetime, row: Row) -> bool:
    """As ``with_status`` judges it: a whole due day lapses at its end, an hour at once."""
    due: dt.datetime = row["due"]
    return instant < due if row["due_whole_day"] else instant <= due


def filed_rows(event: ComplaintFiled, policy: Policy) -> list[Row]:
    """The rows of a new complaint: one per milestone of each regime, or a row saying why not."""
    regimes, calendars = policy.regimes, policy.calendars
    named = frozenset(event.regimes)
    case = Case(
        received_at=event.occurred_at,
        jurisdiction=event.jurisdiction,
        sector=event.sector,
        kind=event.kind,
        regimes=named,
    )
    base = dict.fromkeys(TABLE.columns) | {
        "complaint_id": event.complaint_id,
        "subject_id": event.subject_id,
        "tracking_code": event.tracking_code,
        "received_at": event.occurred_at.astimezone(dt.UTC),
        "event_ids": [event.event_id],
    }
    rows = [
        base
        | {
            "regime_id": regime_id,
            "milestone": "unknown_regime",
            "basis": f"the complaint names {regime_id}, which no regime file defines; add it "
            "(CARELEDGER_REGIMES_DIR) and run careledger ledger rebuild",
        }
        for regime_id in sorted(named - {r.regime_id for r in regimes})
    ]
    for regime in regimes:
        is_named = regime.regime_id in named
        if not is_named and not regime.applies_if.matches(case):
            continue
        one = replace(case, regimes=frozenset({regime.regime_id}) if is_named else frozenset())
        about = base | {"regime_id": regime.regime_id, "regime_version": regime.version}
        try:
            found = deadlines_for(one, [regime], calendars)
        except DeadlineError as exc:
            rows.append(about | {"milestone": "not_computed", "basis": str(exc)})
            continue
        if not found and is_named:
            rows.append(about | {"milestone": "not_in_force", "basis": _not_in_force(regime)})
        rows += [about | _deadline_columns(d) for d in found]
    if not rows:
        regime_id, milestone = NO_REGIME
        basis = "no regime applies to this jurisdiction, sector and kind, and none was named"
        rows.append(base | {"regime_id": regime_id, "milestone": milestone, "basis": basis})
    return rows


def _not_in_force(regime: Regime) -> str:
    until = f" to {regime.effective_to}" if regime.effective_to else ""
    return (
        f"named by the complaint, but {regime.regime_id} v{regime.version} is in force from "
        f"{regime.effective_from}{until}, not on the day of receipt"
    )


def _deadline_columns(d: Deadline) -> Row:
    due = d.due
    met_by = _met_by(d.milestone)
    if d.condition is not None:
        obligation = "conditional"
    elif d.milestone in OPTIONS:
        obligation = "option"
    else:
        obligation = "duty" if met_by else "untracked"
    return {
        "milestone": d.milestone,
        "due": d.ends_at.astimezone(dt.UTC),
        "due_date": due.date() if isinstance(due, dt.datetime) else due,
        "due_whole_day": not isinstance(due, dt.datetime),
        "timezone": d.timezone,
        "calendar_id": d.calendar_id,
        "holidays_version": d.holidays_version,
        "calendar_overrides": [f"{o.name} sha256:{o.sha256}" for o in d.calendar_overrides],
        "basis": d.basis,
        "conditional": d.condition,
        "check_source": d.check,
        "obligation": obligation,
        "met_by": met_by,
    }


def _met_by(milestone: str) -> str | None:
    if milestone.endswith(NOTICE):
        return "extension"
    base = milestone.removesuffix(EXTENDED)
    if base in FIRST_RESPONSES:
        return "first_response"
    return "resolution" if base in RESOLUTIONS else None


def regime_counts(row: Row) -> Iterator[tuple[Key, Measures]]:
    """Per UTC day of resolution and regime, the complaints closed that day with a final
    response due (the base deadline, or the extended one where a notice came in time),
    and how many of those were met in time (status ``met``): the complaints return's
    ``regimes``. A row's status is fixed by then: nothing changes a complaint's rows
    after its resolution (``evolve``), and ``met`` does not depend on the time of asking."""
    if row["resolved_at"] is None or row["due"] is None:
        return
    milestone, obligation = row["milestone"], row["obligation"]
    base = milestone == "final_response" and obligation != "extended"
    if base or (milestone == "final_response_extended" and obligation == "duty"):
        met = row["met_at"] is not None and in_time(row["met_at"], row)
        yield (
            (utc_day(row["resolved_at"]), row["regime_id"]),
            {
                "with_deadline": 1,
                "within_deadline": int(met),
            },
        )


REGIME_DAYS = Tally(
    Table(
        "complaint_regime_days",
        {
            "day": "DATE",
            "regime_id": "VARCHAR",
            "with_deadline": "BIGINT",
            "within_deadline": "BIGINT",
        },
        key=("day", "regime_id"),
    ),
    ("resolved_at", "regime_id", "milestone", "obligation", "due", "due_whole_day", "met_at"),
    regime_counts,
)


def projection(policy: Policy) -> RowProjection:
    # 2: extension notices met by ComplaintDeadlineExtended
    return RowProjection(
        TABLE,
        HANDLES,
        keys_of,
        Bound(evolve, policy),
        scope=("complaint_id",),
        version=2,
        tallies=(REGIME_DAYS,),
    )
