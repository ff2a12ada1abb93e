"""The complaints return: a generated month of complaints through the real projections,
compared with counts worked out here independently (business days from the ``holidays``
library directly), the boundary cases checked by hand, and the files it writes."""

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import holidays
import pytest

from careledger.contracts.events import Event
from careledger.ledger.domain.return_bands import band
from careledger.ledger.queries.returns import (
    DIMENSIONS,
    InvalidReturn,
    complaints_return,
    write_return,
)
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    Ledger,
    an_id,
    complaint_acknowledged,
    complaint_extended,
    complaint_filed,
    complaint_resolved,
)

UTC = dt.UTC
MAY, JUNE = dt.date(2026, 5, 1), dt.date(2026, 6, 1)
LONDON, MADRID = ZoneInfo("Europe/London"), ZoneInfo("Europe/Madrid")
# jurisdiction -> (holidays country, subdivision, zone, sector, currency)
PLACES = {
    "GB-ENG": ("GB", "ENG", LONDON, "financial", "GBP"),
    "ES-MD": ("ES", "MD", MADRID, "telecommunications", "EUR"),
}
CLOSE_OF_BUSINESS = dt.time(17, 0)
OUTCOMES = ("upheld", "partially_upheld", "rejected", "withdrawn")
CHANNELS = ("in_person", "phone", "email", "web_form", "chat", "social", "postal")


@dataclass
class Complaint:
    name: str
    jurisdiction: str
    received_at: dt.datetime
    resolved_at: dt.datetime | None = None
    outcome: str = "rejected"
    redress: tuple[str, str, str] | None = None  # amount, currency, kind
    product: str = "current_account"
    cause: str = "fees"
    channel: str = "phone"

    @property
    def complaint_id(self) -> str:
        return an_id(f"return-{self.name}")

    def events(self) -> list[Event]:
        _, _, _, sector, _ = PLACES[self.jurisdiction]
        filed = complaint_filed(
            self.received_at,
            complaint_id=self.complaint_id,
            jurisdiction=self.jurisdiction,
            sector=sector,
            kind="complaint",
            product=self.product,
            cause=self.cause,
            channel=self.channel,
            regimes=[],
        )
        found: list[Event] = [filed]
        if self.resolved_at is None:
            return found
        ack_at = self.received_at + (self.resolved_at - self.received_at) / 2
        found.append(complaint_acknowledged(ack_at, complaint_id=self.complaint_id))
        redress = None
        if self.redress is not None:
            amount, currency, kind = self.redress
            redress = {"amount": amount, "currency": currency, "kind": kind}
        found.append(
            complaint_resolved(
                self.resolved_at,
                complaint_id=self.complaint_id,
                outcome=self.outcome,
                redress=redress,
            )
        )
        return found


def local(zone: ZoneInfo, *parts: int) -> dt.datetime:
    year, month, day, hour, minute, second = (*parts, 0, 0, 0, 0)[:6]
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)


# Hand-checked: (complaint, expected band). England: bank holidays Mon 25 May 2026 (spring)
# and Mon 4 May (early May); Madrid: Fri 1 May (Labour Day).
BOUNDARIES = [
    # Mon 11 May 10:00 BST: days 1-3 are Tue 12, Wed 13, Thu 14; the whole Thursday counts.
    (Complaint("3bd-last-second", "GB-ENG", local(LONDON, 2026, 5, 11, 10),
               local(LONDON, 2026, 5, 14, 23, 59, 59)), "within_3_business_days"),
    (Complaint("3bd-next-midnight", "GB-ENG", local(LONDON, 2026, 5, 11, 10),
               local(LONDON, 2026, 5, 15, 0, 0)), "within_8_weeks"),
    # Mon 11 May 17:30 BST, after close of business: counted from Tue 12, day 3 is Fri 15.
    (Complaint("3bd-after-hours", "GB-ENG", local(LONDON, 2026, 5, 11, 17, 30),
               local(LONDON, 2026, 5, 15, 12)), "within_3_business_days"),
    # Fri 22 May: Mon 25 is a bank holiday, so days 1-3 are Tue 26, Wed 27, Thu 28.
    (Complaint("3bd-over-holiday", "GB-ENG", local(LONDON, 2026, 5, 22, 10),
               local(LONDON, 2026, 5, 28, 16)), "within_3_business_days"),
    # Received on Madrid's Labour Day (Fri 1 May): counted from Mon 4 May, day 3 is Thu 7.
    (Complaint("3bd-received-on-holiday", "ES-MD", local(MADRID, 2026, 5, 1, 10),
               local(MADRID, 2026, 5, 7, 20)), "within_3_business_days"),
    # Mon 30 Mar BST + 56 days = Mon 25 May (a bank holiday; weeks do not roll forward).
    (Complaint("8w-last-second", "GB-ENG", local(LONDON, 2026, 3, 30, 10),
               local(LONDON, 2026, 5, 25, 23, 59, 59)), "within_8_weeks"),
    (Complaint("8w-next-midnight", "GB-ENG", local(LONDON, 2026, 3, 30, 10),
               local(LONDON, 2026, 5, 26, 0, 0)), "after_8_weeks"),
]  # fmt: skip


def generated_month(seed: int = 20260501, n: int = 160) -> list[Complaint]:
    """Complaints received from March to May 2026, closed from minutes to 10 weeks later,
    some never: outstanding at the start of May, opened and closed in May, or after it."""
    rng = random.Random(seed)
    first = dt.datetime(2026, 3, 1, tzinfo=UTC)
    complaints = []
    for i in range(n):
        jurisdiction = rng.choice(sorted(PLACES))
        received = first + dt.timedelta(minutes=rng.randrange(92 * 24 * 60))
        c = Complaint(f"gen-{i}", jurisdiction, received)
        c.product = rng.choice(("current_account", "credit_card", "fibre.home"))
        c.cause = rng.choice(("fees", "service.delay", "fraud"))
        c.channel = rng.choice(CHANNELS)
        if rng.random() < 0.8:
            quick = rng.random() < 0.4
            span = rng.uniform(0, 6) if quick else rng.uniform(6, 70)
            c.resolved_at = received + dt.timedelta(days=span)
            c.outcome = rng.choice(OUTCOMES)
            if c.outcome in ("upheld", "partially_upheld") and rng.random() < 0.7:
                amount = f"{rng.randrange(1, 50000) / 100:.2f}"
                c.redress = (amount, PLACES[jurisdiction][4], "compensation")
            elif rng.random() < 0.2:
                c.redress = ("0", PLACES[jurisdiction][4], "apology")
        complaints.append(c)
    return complaints


# --- the independent reckoning -------------------------------------------------------


def is_working(jurisdiction: str, day: dt.date) -> bool:
    country, subdiv, _, _, _ = PLACES[jurisdiction]
    return day.weekday() < 5 and day not in holidays.country_holidays(
        country, subdiv=subdiv, years=day.year
    )


def business_day_end(jurisdiction: str, received: dt.datetime, days: int) -> dt.datetime:
    """Local midnight after business day ``days``, the day of receipt being day 0 (the next
    business day when received on a non-working day or after 17:00)."""
    zone = PLACES[jurisdiction][2]
    at = received.astimezone(zone)
    day = at.date()
    if not is_working(jurisdiction, day) or at.time() > CLOSE_OF_BUSINESS:
        day += dt.timedelta(days=1)
        while not is_working(jurisdiction, day):
            day += dt.timedelta(days=1)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += is_working(jurisdiction, day)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def eight_weeks_end(jurisdiction: str, received: dt.datetime) -> dt.datetime:
    zone = PLACES[jurisdiction][2]
    day = received.astimezone(zone).date() + dt.timedelta(days=57)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def expected_band(c: Complaint) -> str:
    assert c.resolved_at is not None
    if c.resolved_at < business_day_end(c.jurisdiction, c.received_at, 3):
        return "within_3_business_days"
    if c.resolved_at < eight_weeks_end(c.jurisdiction, c.received_at):
        return "within_8_weeks"
    return "after_8_weeks"


def expected_counts(complaints: list[Complaint], by: str) -> list[dict[str, Any]]:
    start, end = dt.datetime(2026, 5, 1, tzinfo=UTC), dt.datetime(2026, 6, 1, tzinfo=UTC)
    groups: dict[str | None, Counter[str]] = defaultdict(Counter)
    for c in complaints:
        closed = c.resolved_at is not None and start <= c.resolved_at < end
        marks = {
            "outstanding_at_start": c.received_at < start
            and (c.resolved_at is None or c.resolved_at >= start),
            "opened": start <= c.received_at < end,
            "closed": closed,
        }
        if closed:
            marks[f"closed_{expected_band(c)}"] = True
            marks["upheld"] = c.outcome in ("upheld", "partially_upheld")
            marks["redress_paid"] = c.redress is not None and Decimal(c.redress[0]) > 0
        for key in (getattr(c, by), None):
            groups[key].update(name for name, yes in marks.items() if yes)
    columns = [
        "outstanding_at_start",
        "opened",
        "closed",
        "closed_within_3_business_days",
        "closed_within_8_weeks",
        "closed_after_8_weeks",
        "closed_unbanded",
        "upheld",
        "redress_paid",
    ]
    rows = [
        {"total": key is None, by: key} | {col: counts[col] for col in columns}
        for key, counts in groups.items()
        if key is None or counts["outstanding_at_start"] + counts["opened"] + counts["closed"]
    ]
    return sorted(rows, key=lambda r: (r["total"], r[by] or ""))


def expected_redress(complaints: list[Complaint]) -> dict[str, tuple[int, Decimal]]:
    totals: dict[str, tuple[int, Decimal]] = {}
    for c in complaints:
        if c.resolved_at and MAY <= c.resolved_at.date() < JUNE and c.redress:
            amount, currency, _ = c.redress
            if Decimal(amount) > 0:
                n, total = totals.get(currency, (0, Decimal(0)))
                totals[currency] = (n + 1, total + Decimal(amount))
    return totals


def expected_regime(
    complaints: list[Complaint], jurisdiction: str, deadline_end: Any
) -> tuple[int, int]:
    closed = [
        c
        for c in complaints
        if c.jurisdiction == jurisdiction and c.resolved_at and MAY <= c.resolved_at.date() < JUNE
    ]
    return len(closed), sum(c.resolved_at < deadline_end(c) for c in closed if c.resolved_at)


# --- the ledger ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def month() -> list[Complaint]:
    return generated_month() + [c for c, _ in BOUNDARIES]


@pytest.fixture(scope="module")
def ledger(month: list[Complaint], tmp_path_factory: pytest.TempPathFactory) -> Any:
    events = sorted((e for c in month for e in c.events()), key=lambda e: e.occurred_at)
    ledger = Ledger(tmp_path_factory.mktemp("returns") / "ledger.duckdb")
    for i in range(0, len(events), 100):
        ledger.feed(*events[i : i + 100])
    yield ledger
    ledger.close()


@pytest.fixture
def con(ledger: Ledger) -> Any:
    cursor = ledger.store.cursor()
    yield cursor
    cursor.close()


@pytest.mark.parametrize(("complaint", "expected"), BOUNDARIES, ids=[c.name for c, _ in BOUNDARIES])
def test_a_boundary_case_falls_in_the_band_worked_out_by_hand(
    complaint: Complaint, expected: str
) -> None:
    assert complaint.resolved_at is not None
    found = band(
        complaint.received_at,
        complaint.resolved_at,
        complaint.jurisdiction,
        shipped_policy().calendars,
    )
    assert (found, expected_band(complaint)) == (expected, expected)


def test_the_generated_month_crosses_every_boundary(month: list[Complaint]) -> None:
    closed = [c for c in month if c.resolved_at and MAY <= c.resolved_at.date() < JUNE]
    bands = Counter(expected_band(c) for c in closed)
    outstanding = [c for c in month if c.received_at.date() < MAY and c.resolved_at is None]
    assert min(bands.values()) >= 5 and len(bands) == 3
    assert len(outstanding) >= 5


@pytest.mark.parametrize("by", DIMENSIONS)
def test_the_return_for_a_month_equals_counts_made_independently(
    con: duckdb.DuckDBPyConnection, month: list[Complaint], by: str
) -> None:
    found = complaints_return(con, MAY, JUNE, by)
    assert found["counts"] == expected_counts(month, by)
    assert found["unbanded"] == []
    total = found["counts"][-1]
    assert total["closed"] == sum(
        total[f"closed_{b}"] for b in ("within_3_business_days", "within_8_weeks", "after_8_weeks")
    )


def test_redress_is_counted_and_summed_per_currency_never_across(
    con: duckdb.DuckDBPyConnection, month: list[Complaint]
) -> None:
    found = complaints_return(con, MAY, JUNE, "channel")
    totals = {r["currency"]: (r["complaints"], r["amount"]) for r in found["redress"] if r["total"]}
    assert totals == expected_redress(month)
    assert set(totals) == {"GBP", "EUR"}


def test_the_share_closed_within_deadline_per_regime_matches_an_independent_count(
    con: duckdb.DuckDBPyConnection, month: list[Complaint]
) -> None:
    found = {r["regime_id"]: r for r in complaints_return(con, MAY, JUNE, "cause")["regimes"]}
    fca = expected_regime(month, "GB-ENG", lambda c: eight_weeks_end(c.jurisdiction, c.received_at))
    ley = expected_regime(
        month, "ES-MD", lambda c: business_day_end(c.jurisdiction, c.received_at, 15)
    )
    assert set(found) == {"uk.fca.disp", "es.ley_10_2025", "es.ley_7_2017", "iso.10002.example"}
    for regime_id, (closed, in_time) in (("uk.fca.disp", fca), ("es.ley_10_2025", ley)):
        row = found[regime_id]
        assert (row["with_deadline"], row["within_deadline"]) == (closed, in_time)
        assert row["share_within_deadline"] == round(in_time / closed, 4)
        assert 0 < in_time < closed


def test_a_period_with_nothing_in_it_has_only_a_total_row_of_zeros(
    con: duckdb.DuckDBPyConnection,
) -> None:
    found = complaints_return(con, dt.date(2025, 1, 1), dt.date(2025, 2, 1), "product")
    assert [(r["total"], r["opened"], r["closed"]) for r in found["counts"]] == [(True, 0, 0)]
    assert found["redress"] == found["regimes"] == []


@pytest.mark.parametrize(
    ("start", "end", "by", "field"),
    [(JUNE, MAY, "channel", "to"), (MAY, MAY, "channel", "to"), (MAY, JUNE, "agent", "by")],
)
def test_a_return_refuses_an_empty_period_and_an_unknown_dimension(
    con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, by: str, field: str
) -> None:
    with pytest.raises(InvalidReturn) as refused:
        complaints_return(con, start, end, by)
    assert refused.value.field == field


def test_a_complaint_outside_the_calendar_years_is_counted_as_unbanded(tmp_path: Path) -> None:
    late = Complaint(
        "far-future",
        "GB-ENG",
        dt.datetime(2028, 12, 30, 10, tzinfo=UTC),
        dt.datetime(2029, 1, 2, 10, tzinfo=UTC),
    )
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        ledger.feed(*late.events())
        found = complaints_return(
            ledger.store.cursor(), dt.date(2029, 1, 1), dt.date(2029, 2, 1), "channel"
        )
    finally:
        ledger.close()
    assert (found["counts"][-1]["closed"], found["counts"][-1]["closed_unbanded"]) == (1, 1)
    assert [u["complaint_id"] for u in found["unbanded"]] == [late.complaint_id]
    assert "2029" in found["unbanded"][0]["reason"]


@pytest.mark.parametrize(("extended", "within"), [(True, 1), (False, 0)])
def test_an_extension_in_time_makes_the_extended_deadline_the_one_counted(
    tmp_path: Path, extended: bool, within: int
) -> None:
    # UK payments (DISP 1.6.2A / PSD2 Art. 101): received Mon 2 Mar 2026 09:00 GMT, final
    # response by business day 15 (Mon 23 Mar), or by day 35 (Wed 22 Apr) after a holding
    # reply by day 15. Resolved Fri 10 Apr: in time only with the holding reply.
    filed = complaint_filed(
        dt.datetime(2026, 3, 2, 9, tzinfo=UTC),
        complaint_id=an_id("payments"),
        jurisdiction="GB-ENG",
        sector="financial.payments",
        regimes=[],
    )
    notice = complaint_extended(
        dt.datetime(2026, 3, 20, 9, tzinfo=UTC), complaint_id=filed.complaint_id
    )
    resolved = complaint_resolved(
        dt.datetime(2026, 4, 10, 9, tzinfo=UTC), complaint_id=filed.complaint_id
    )
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        ledger.feed(filed, *([notice] if extended else []), resolved)
        found = complaints_return(
            ledger.store.cursor(), dt.date(2026, 4, 1), dt.date(2026, 5, 1), "channel"
        )
    finally:
        ledger.close()
    (payments,) = [r for r in found["regimes"] if r["regime_id"] == "uk.fca.disp.payments"]
    assert (payments["with_deadline"], payments["within_deadline"]) == (1, within)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files_hold_the_json_rows_and_the_same_return_twice_is_the_same_bytes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: Any
) -> None:
    rows = complaints_return(con, MAY, JUNE, "product")
    first = write_return(con, tmp_path / "a", fmt, MAY, JUNE, "product")
    second = write_return(con, tmp_path / "b", fmt, MAY, JUNE, "product")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([f"counts.{fmt}", f"redress.{fmt}", f"regimes.{fmt}", "manifest.json"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first == second
    assert {f["table"]: f["rows"] for f in first["files"]} == {
        t: len(rows[t]) for t in ("counts", "redress", "regimes")
    }
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    for table in ("counts", "redress", "regimes"):
        path = str(tmp_path / "a" / f"{table}.{fmt}")
        result = duckdb.connect().execute(f"SELECT * FROM {reader}('{path}')")
        names = [d[0] for d in result.description]
        read = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
        assert [normal(r) for r in read] == [normal(r) for r in rows[table]]


def normal(row: dict[str, Any]) -> dict[str, str]:
    """A row with its values as text: CSV reads back decimals as doubles."""
    return {
        k: ""
        if v is None
        else f"{Decimal(str(v)).normalize()}"
        if isinstance(v, (Decimal, float))
        else str(v)
        for k, v in row.items()
    }


def test_the_return_is_broken_down_by_the_dimensions_its_tallies_count() -> None:
    from careledger.ledger.domain.projections import complaint_days
    from careledger.ledger.queries.returns import DIMENSIONS

    assert DIMENSIONS == complaint_days.DIMENSIONS
