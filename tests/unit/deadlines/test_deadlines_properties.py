"""Properties that hold for every shipped regime, calendar and receipt time."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.ledger.deadlines import Calendars, Case, Deadline, deadlines_for
from tests.unit.deadlines.deadline_support import shipped_calendars, shipped_regimes

JURISDICTIONS = ["ES", "ES-MD", "ES-CT", "ES-AN", "GB-ENG", "GB-SCT", "CO"]
# Receipts late enough in 2028 would run past the supported years (up to 3 months ahead).
receipts = st.datetimes(
    min_value=dt.datetime(2025, 1, 2), max_value=dt.datetime(2028, 8, 31), timezones=st.just(dt.UTC)
)
gaps = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=20))


def every_deadline(
    received: dt.datetime, jurisdiction: str, calendars: Calendars | None = None
) -> dict[tuple[str, str], Deadline]:
    regimes = shipped_regimes()
    if calendars is not None:  # only the regimes that use the case's own calendar
        regimes = tuple(r for r in regimes if r.calendar == "jurisdiction")
    case = Case(
        received_at=received,
        jurisdiction=jurisdiction,
        sector="any",
        kind="complaint",
        regimes=frozenset(r.regime_id for r in regimes),
    )
    found = deadlines_for(case, regimes, calendars or shipped_calendars())
    return {(d.regime_id, d.milestone): d for d in found}


@settings(deadline=None)
@given(received=receipts, jurisdiction=st.sampled_from(JURISDICTIONS))
def test_a_due_date_is_never_before_receipt(received: dt.datetime, jurisdiction: str) -> None:
    for d in every_deadline(received, jurisdiction).values():
        assert d.ends_at > received
        if not isinstance(d.due, dt.datetime):
            assert d.due >= received.astimezone(d.ends_at.tzinfo).date()


@settings(deadline=None)
@given(received=receipts, gap=gaps, jurisdiction=st.sampled_from(JURISDICTIONS))
def test_a_later_receipt_never_gives_an_earlier_due_date(
    received: dt.datetime, gap: dt.timedelta, jurisdiction: str
) -> None:
    earlier = every_deadline(received, jurisdiction)
    later = every_deadline(received + gap, jurisdiction)
    for key in earlier.keys() & later.keys():  # a regime may come into force in between
        assert later[key].ends_at >= earlier[key].ends_at, key


@settings(deadline=None)
@given(
    received=receipts,
    jurisdiction=st.sampled_from(JURISDICTIONS),
    extra=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
)
def test_adding_a_holiday_never_brings_a_due_date_earlier(
    received: dt.datetime, jurisdiction: str, extra: dt.date
) -> None:
    calendar = shipped_calendars().for_jurisdiction(jurisdiction)
    plain = Calendars.of(calendar)
    busier = Calendars.of(calendar.with_changes(added={extra: "extra holiday"}))
    before = every_deadline(received, calendar.calendar_id, plain)
    after = every_deadline(received, calendar.calendar_id, busier)
    for key, first in before.items():
        assert after[key].ends_at >= first.ends_at, key
