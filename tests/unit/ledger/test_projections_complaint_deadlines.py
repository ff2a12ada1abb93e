"""The complaint deadlines register: every applicable regime's milestones per complaint,
due dates worked out by hand, met or breached, and the deadline owed to an external body."""

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from careledger.contracts.events import Event
from careledger.ledger.deadlines import BodyRule, PolicyFileError, load_body_rules
from careledger.ledger.deadlines._calendars import HOLIDAYS_VERSION
from careledger.ledger.ingest.rebuild import rebuild_projections
from careledger.ledger.queries.registers import REGISTERS, query
from careledger.ledger.queries.registers.complaint_deadlines import with_status
from careledger.ledger.queries.registers.escalations import escalations_with_body_deadlines
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    COMPLAINT,
    OTHER_SUBJECT,
    Ledger,
    an_id,
    complaint_acknowledged,
    complaint_escalated,
    complaint_extended,
    complaint_filed,
    complaint_resolved,
    escalation_decided,
    rows_after,
)

UTC = dt.UTC
# Monday 23 March 2026, 10:00 in Madrid (CET, UTC+1): a business day, before 17:00, so the
# day of receipt is day 0 and the next business day is day 1.
RECEIVED = dt.datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
FILED = complaint_filed(
    RECEIVED,
    jurisdiction="ES-MD",
    sector="telecommunications",
    kind="complaint",
    regimes=["es.ley_10_2025"],
)
ACKNOWLEDGED = complaint_acknowledged(RECEIVED + dt.timedelta(hours=3))
# Ley 10/2025: 15 business days after Mon 23 Mar 2026, skipping weekends and the holidays
# of the Comunidad de Madrid (holidays library, subdivision MD):
#   1 Tue 24 Mar, 2 Wed 25, 3 Thu 26, 4 Fri 27, (Sat 28, Sun 29), 5 Mon 30, 6 Tue 31,
#   7 Wed 1 Apr, (Thu 2 Apr Jueves Santo: a Madrid holiday, not a national one;
#   Fri 3 Apr Viernes Santo: national; Sat 4, Sun 5), 8 Mon 6, 9 Tue 7, 10 Wed 8, 11 Thu 9,
#   12 Fri 10, (Sat 11, Sun 12), 13 Mon 13, 14 Tue 14, 15 Wed 15 Apr 2026.
# The whole due day counts: it lapses at midnight Madrid time (CEST, UTC+2 since 29 March),
# 2026-04-15 22:00 UTC.
LEY_10_DUE_DATE = dt.date(2026, 4, 15)
LEY_10_LAPSES = dt.datetime(2026, 4, 15, 22, 0, tzinfo=UTC)
# On the national calendar Jueves Santo is a working day, so day 15 is one day earlier.
NATIONAL_DUE_DATE = dt.date(2026, 4, 14)
# Ley 7/2017: one calendar month from receipt on 23 Mar -> Thu 23 Apr 2026, a working day.
LEY_7_DUE_DATE = dt.date(2026, 4, 23)
# ISO 10002 example policy: acknowledge in 2 business days -> Wed 25 Mar; respond in 20:
# day 15 is Wed 15 Apr (above), 16 Thu 16, 17 Fri 17, 18 Mon 20, 19 Tue 21, 20 Wed 22 Apr.
ISO_ACK_DUE_DATE = dt.date(2026, 3, 25)
ISO_FINAL_DUE_DATE = dt.date(2026, 4, 22)
RESOLVED_LATE = complaint_resolved(dt.datetime(2026, 4, 16, 8, 0, tzinfo=UTC))  # 10:00 on 16 Apr
STORY = [FILED, ACKNOWLEDGED, RESOLVED_LATE]
KEY = "complaint_id, regime_id, milestone"
SQL = f"SELECT * FROM complaint_deadlines ORDER BY {KEY}"


def deadlines(ledger: Ledger) -> dict[tuple[str, str], dict[str, Any]]:
    """This test's complaint's rows by (regime_id, milestone)."""
    rows = ledger.table("complaint_deadlines", KEY)
    return {(r["regime_id"], r["milestone"]): r for r in rows if r["complaint_id"] == COMPLAINT}


def statuses(ledger: Ledger, now: dt.datetime) -> dict[tuple[str, str], tuple[str, int]]:
    rows = ledger.rows(f"SELECT * FROM ({with_status(now)}) ORDER BY {KEY}")
    return {(r["regime_id"], r["milestone"]): (r["status"], r["days_open"]) for r in rows}


def test_a_madrid_complaint_is_due_15_business_days_later_skipping_madrid_holidays(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED)
    row = deadlines(ledger)[("es.ley_10_2025", "final_response")]
    assert (row["due_date"], row["due"], row["due_whole_day"]) == (
        LEY_10_DUE_DATE,
        LEY_10_LAPSES,
        True,
    )
    assert (row["calendar_id"], row["timezone"], row["regime_version"]) == (
        "ES-MD",
        "Europe/Madrid",
        1,
    )
    assert row["holidays_version"] == HOLIDAYS_VERSION
    assert row["basis"] == (
        "15 business days after 2026-03-23, skipping weekends and ES-MD holidays"
    )
    assert (row["received_at"], row["tracking_code"]) == (RECEIVED, FILED.tracking_code)
    assert (row["met_at"], row["resolved_at"], row["event_ids"]) == (None, None, [FILED.event_id])


def test_the_national_calendar_counts_the_madrid_only_holiday_as_a_working_day(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(complaint_filed(RECEIVED, jurisdiction="ES", regimes=["es.ley_10_2025"]))
    row = deadlines(ledger)[("es.ley_10_2025", "final_response")]
    assert (row["calendar_id"], row["due_date"]) == ("ES", NATIONAL_DUE_DATE)


def test_every_applicable_regime_is_reported_besides_the_named_ones(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED)
    rows = deadlines(ledger)
    # Named: Ley 10/2025. Matching applies_if (ES, complaint): Ley 7/2017 and the ISO 10002
    # example. Not GDPR (data-subject requests only) nor the FCA or Colombian rules.
    assert {key: row["due_date"] for key, row in rows.items()} == {
        ("es.ley_10_2025", "final_response"): LEY_10_DUE_DATE,
        ("es.ley_7_2017", "final_response"): LEY_7_DUE_DATE,
        ("iso.10002.example", "acknowledge"): ISO_ACK_DUE_DATE,
        ("iso.10002.example", "final_response"): ISO_FINAL_DUE_DATE,
    }
    assert {key: row["met_by"] for key, row in rows.items()} == {
        ("es.ley_10_2025", "final_response"): "resolution",
        ("es.ley_7_2017", "final_response"): "resolution",
        ("iso.10002.example", "acknowledge"): "first_response",
        ("iso.10002.example", "final_response"): "resolution",
    }


def test_a_named_regime_applies_even_where_its_conditions_would_not_match(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(complaint_filed(RECEIVED, jurisdiction="ES-MD", regimes=["uk.fca.disp"]))
    rows = deadlines(ledger)
    # UK DISP on the complaint's own calendar (ES-MD): 3 business days -> Thu 26 Mar;
    # 8 calendar weeks from 23 Mar -> 18 May 2026, with no roll-forward.
    assert rows[("uk.fca.disp", "summary_resolution")]["due_date"] == dt.date(2026, 3, 26)
    assert rows[("uk.fca.disp", "final_response")]["due_date"] == dt.date(2026, 5, 18)
    assert rows[("uk.fca.disp", "summary_resolution")]["obligation"] == "option"


def test_acknowledgement_and_resolution_set_met_at_with_their_event_ids(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED, ACKNOWLEDGED)
    rows = deadlines(ledger)
    acknowledge = rows[("iso.10002.example", "acknowledge")]
    assert acknowledge["met_at"] == ACKNOWLEDGED.occurred_at
    assert acknowledge["event_ids"] == [FILED.event_id, ACKNOWLEDGED.event_id]
    assert rows[("es.ley_10_2025", "final_response")]["met_at"] is None
    assert rows[("es.ley_10_2025", "final_response")]["event_ids"] == [FILED.event_id]

    ledger.feed(RESOLVED_LATE)
    rows = deadlines(ledger)
    for key in [k for k in rows if k[1] == "final_response"]:
        assert rows[key]["met_at"] == RESOLVED_LATE.occurred_at
        assert rows[key]["event_ids"] == [FILED.event_id, RESOLVED_LATE.event_id]
    assert rows[("iso.10002.example", "acknowledge")]["met_at"] == ACKNOWLEDGED.occurred_at
    assert {row["resolved_at"] for row in rows.values()} == {RESOLVED_LATE.occurred_at}


def test_a_resolution_without_acknowledgement_is_the_first_response(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    resolved = complaint_resolved(RECEIVED + dt.timedelta(hours=2))
    ledger.feed(FILED, resolved)
    assert deadlines(ledger)[("iso.10002.example", "acknowledge")]["met_at"] == (
        resolved.occurred_at
    )


def test_a_complaint_resolved_after_its_due_date_is_breached(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    # Resolved Thu 16 Apr 10:00 Madrid: a day after Ley 10/2025's due date, before Ley
    # 7/2017's (23 Apr); days open: 23 Mar -> 16 Apr = 24 calendar days.
    assert statuses(ledger, now) == {
        ("es.ley_10_2025", "final_response"): ("breached", 24),
        ("es.ley_7_2017", "final_response"): ("met", 24),
        ("iso.10002.example", "acknowledge"): ("met", 24),
        ("iso.10002.example", "final_response"): ("met", 24),
    }


def test_a_resolution_in_the_last_minute_of_the_due_day_is_in_time(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    last_minute = complaint_resolved(LEY_10_LAPSES - dt.timedelta(minutes=1))  # 23:59 Madrid
    ledger.feed(FILED, last_minute)
    status, _ = statuses(ledger, LEY_10_LAPSES)[("es.ley_10_2025", "final_response")]
    assert status == "met"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # three weeks before it lapses; 1 Apr is 9 days after receipt
        (dt.datetime(2026, 4, 1, 12, 0, tzinfo=UTC), ("open", 9)),
        # within the 2-day margin of 15 Apr 22:00 UTC
        (dt.datetime(2026, 4, 14, 12, 0, tzinfo=UTC), ("at_risk", 22)),
        # the due day has ended in Madrid and there is no response
        (LEY_10_LAPSES, ("breached", 24)),
    ],
)
def test_an_unresolved_deadline_is_open_then_at_risk_then_breached(
    tmp_path: Path, now: dt.datetime, expected: tuple[str, int]
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED, ACKNOWLEDGED)
    assert statuses(ledger, now)[("es.ley_10_2025", "final_response")] == expected


def test_options_and_extensions_lapse_instead_of_breaching(tmp_path: Path) -> None:
    # A UK payments complaint received Mon 2 Mar 2026 09:00 London (GMT): summary
    # resolution by business day 3 (Thu 5 Mar); final response by day 15 (Mon 23 Mar:
    # no English bank holiday in March); extension to day 35 with a holding reply by day 15.
    received = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        complaint_filed(received, jurisdiction="GB-ENG", sector="financial.payments", regimes=[]),
        complaint_resolved(dt.datetime(2026, 3, 12, 12, 0, tzinfo=UTC)),
    )
    rows = deadlines(ledger)
    payments = {k[1]: r for k, r in rows.items() if k[0] == "uk.fca.disp.payments"}
    assert {m: (r["due_date"], r["obligation"]) for m, r in payments.items()} == {
        "summary_resolution": (dt.date(2026, 3, 5), "option"),
        "final_response": (dt.date(2026, 3, 23), "duty"),
        "final_response_extension_notice": (dt.date(2026, 3, 23), "conditional"),
        "final_response_extended": (dt.date(2026, 4, 22), "conditional"),
    }
    assert payments["final_response_extended"]["conditional"] == (
        "only if the extension was notified by 2026-03-23"
    )
    assert payments["final_response_extension_notice"]["met_by"] == "extension"
    found = statuses(ledger, dt.datetime(2026, 5, 1, tzinfo=UTC))
    assert {m: found[("uk.fca.disp.payments", m)][0] for m in payments} == {
        "summary_resolution": "lapsed",  # resolved on day 8: not a summary resolution
        "final_response": "met",
        "final_response_extension_notice": "lapsed",  # answered in time: none needed
        "final_response_extended": "met",
    }


def test_an_unknown_regime_gets_a_row_without_due_date_and_the_rest_is_computed(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        complaint_filed(RECEIVED, jurisdiction="ES-MD", regimes=["es.ley_10_2025", "xx.made_up"]),
        RESOLVED_LATE,
    )
    rows = deadlines(ledger)
    unknown = rows[("xx.made_up", "unknown_regime")]
    assert (unknown["due"], unknown["due_date"], unknown["regime_version"]) == (None, None, None)
    assert "no regime file defines" in unknown["basis"]
    assert unknown["resolved_at"] == RESOLVED_LATE.occurred_at
    assert rows[("es.ley_10_2025", "final_response")]["due_date"] == LEY_10_DUE_DATE
    status, days_open = statuses(ledger, LEY_10_LAPSES)[("xx.made_up", "unknown_regime")]
    assert (status, days_open) == ("not_computed", 24)


def test_a_date_beyond_the_calendars_is_recorded_not_guessed_and_does_not_stop_the_ledger(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(complaint_filed(dt.datetime(2031, 2, 3, 9, 0, tzinfo=UTC), jurisdiction="ES-MD"))
    rows = deadlines(ledger)
    assert set(rows) == {
        ("es.ley_10_2025", "not_computed"),
        ("es.ley_7_2017", "not_computed"),
        ("iso.10002.example", "not_computed"),
    }
    assert all("outside it" in r["basis"] and r["due"] is None for r in rows.values())


def test_a_named_regime_not_yet_in_force_says_so(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        complaint_filed(dt.datetime(2025, 3, 14, 9, 0, tzinfo=UTC), regimes=["es.ley_10_2025"])
    )
    row = deadlines(ledger)[("es.ley_10_2025", "not_in_force")]
    assert row["due"] is None and "in force from 2025-12-28" in row["basis"]


def test_a_complaint_no_regime_applies_to_still_has_a_row(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(complaint_filed(RECEIVED, jurisdiction="US-NY", regimes=[]))
    assert list(deadlines(ledger)) == [("none", "no_applicable_regime")]


def test_facts_intake_refuses_leave_the_first_record_standing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED)
    before = ledger.rows(SQL)
    ledger.feed(
        complaint_filed(RECEIVED, jurisdiction="GB-ENG", sector="financial", regimes=[]),
        complaint_acknowledged(RECEIVED, subject_id=OTHER_SUBJECT),
        complaint_resolved(RECEIVED, subject_id=OTHER_SUBJECT),
        complaint_resolved(RECEIVED, complaint_id=an_id("never-filed")),
    )
    assert ledger.rows(SQL) == before
    ledger.feed(ACKNOWLEDGED, RESOLVED_LATE)
    after = ledger.rows(SQL)
    ledger.feed(
        complaint_acknowledged(RESOLVED_LATE.occurred_at + dt.timedelta(days=1)),
        complaint_resolved(RESOLVED_LATE.occurred_at + dt.timedelta(days=2), outcome="upheld"),
    )
    assert ledger.rows(SQL) == after


TWO_COMPLAINTS: list[Event] = [
    FILED,
    complaint_filed(
        RECEIVED, complaint_id=an_id("second"), jurisdiction="GB-SCT", sector="financial"
    ),
    ACKNOWLEDGED,
    complaint_resolved(RECEIVED + dt.timedelta(days=2), complaint_id=an_id("second")),
    RESOLVED_LATE,
]


def test_two_batches_cut_anywhere_give_the_same_rows_as_one(tmp_path: Path) -> None:
    whole = rows_after(tmp_path / "whole.duckdb", [TWO_COMPLAINTS], SQL)
    assert len(whole) > 4
    for cut in range(1, len(TWO_COMPLAINTS)):
        halves = [TWO_COMPLAINTS[:cut], TWO_COMPLAINTS[cut:]]
        assert rows_after(tmp_path / f"cut-{cut}.duckdb", halves, SQL) == whole


def test_a_rebuild_from_the_events_equals_the_incremental_rows(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    for event in TWO_COMPLAINTS:
        ledger.feed(event)
    live = ledger.rows(SQL)
    fresh = duckdb.connect(":memory:")
    rebuild_projections(ledger.store.con, fresh, ledger.store.projections)
    rebuilt: list[dict[str, Any]] = fresh.sql(SQL).to_arrow_table().to_pylist()
    assert rebuilt == live


def test_a_redelivered_batch_changes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    first = ledger.feed(*TWO_COMPLAINTS[:3])
    ledger.feed(*TWO_COMPLAINTS[3:])
    before = ledger.rows(SQL)
    ledger.deliver(first)
    assert ledger.rows(SQL) == before


def test_the_register_filters_by_status_at_query_time(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*STORY)
    assert "complaint_deadlines" in REGISTERS
    page = query(
        ledger.store.con, REGISTERS["complaint_deadlines"], {"status": "breached"}, shipped_policy()
    )
    assert [(r["regime_id"], r["milestone"]) for r in page["items"]] == [
        ("es.ley_10_2025", "final_response")
    ]
    page = query(
        ledger.store.con,
        REGISTERS["complaint_deadlines"],
        {"complaint_id": COMPLAINT},
        shipped_policy(),
    )
    assert page["total"] == 4


# --- the escalation register: the deadline owed to an external body --------------------


def escalation_register(ledger: Ledger) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = query(
        ledger.store.con, REGISTERS["escalations"], {}, shipped_policy()
    )["items"]
    return items


def test_the_ombudsman_deadline_is_six_months_after_the_final_response(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        complaint_filed(RECEIVED, jurisdiction="GB-ENG", sector="financial", regimes=[]),
        complaint_escalated(
            RECEIVED + dt.timedelta(days=1),
            from_level="frontline",
            to_level="ombudsman",
            body_name="Financial Ombudsman Service",
            initiated_by="customer",
        ),
    )
    [row] = escalation_register(ledger)
    assert row["body_deadline"] is None
    assert row["body_deadline_basis"] == (
        "Financial Ombudsman Service: 6 months after the final response, not given yet"
    )
    # Final response on 31 Aug 2026 (23:30 London, BST): six months later is 28 Feb 2027,
    # the last day of a month with no 31st (DISP 2.8.2R: "six months after the date").
    ledger.feed(complaint_resolved(dt.datetime(2026, 8, 31, 22, 30, tzinfo=UTC)))
    [row] = escalation_register(ledger)
    assert row["body_deadline"] == dt.date(2027, 2, 28)
    assert row["body_deadline_basis"] == (
        "Financial Ombudsman Service: 6 months after the final response of 2026-08-31"
    )


def test_a_body_without_a_known_deadline_says_so_and_internal_levels_have_none(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        FILED,
        complaint_escalated(RECEIVED, from_level="frontline", to_level="supervisor"),
        RESOLVED_LATE,
        complaint_escalated(
            RESOLVED_LATE.occurred_at + dt.timedelta(days=3),
            from_level="supervisor",
            to_level="consumer_office",
            initiated_by="customer",
        ),
    )
    supervisor, office = escalation_register(ledger)
    assert (supervisor["body_deadline"], supervisor["body_deadline_basis"]) == (None, None)
    assert office["body_deadline"] is None
    assert "No statutory deadline" in office["body_deadline_basis"]


def test_the_most_specific_body_rule_wins_and_a_missing_one_is_named(tmp_path: Path) -> None:
    rules = (
        BodyRule(
            jurisdiction="GB", to_level="ombudsman", body="FOS", months=6,
            timezone="Europe/London", source="s",
        ),
        BodyRule(
            jurisdiction="GB-SCT", to_level="ombudsman", body="FOS (Scotland, example)",
            months=3, timezone="Europe/London", source="s",
        ),
    )  # fmt: skip
    ledger = Ledger(tmp_path / "l.duckdb")
    resolved = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    ledger.feed(
        complaint_filed(RECEIVED, jurisdiction="GB-SCT", sector="financial", regimes=[]),
        complaint_resolved(resolved),
        complaint_escalated(resolved, to_level="ombudsman", initiated_by="customer"),
        complaint_escalated(resolved, to_level="court", initiated_by="customer"),
    )
    sql = f"SELECT * FROM ({escalations_with_body_deadlines(rules)}) ORDER BY to_level"
    court, ombudsman = ledger.rows(sql)
    assert ombudsman["body_deadline"] == dt.date(2026, 4, 15)
    assert court["body_deadline"] is None
    assert court["body_deadline_basis"] == "no rule for GB-SCT / court in the body deadlines file"


def test_a_body_rule_without_months_must_say_why(tmp_path: Path) -> None:
    path = tmp_path / "bodies.toml"
    path.write_text(
        '[[bodies]]\njurisdiction = "ES"\nto_level = "arbitration"\nbody = "Junta arbitral"\n'
        'timezone = "Europe/Madrid"\nsource = "s"\n'
    )
    with pytest.raises(PolicyFileError, match="say why in 'note'"):
        load_body_rules(path)
    assert {(r.jurisdiction, r.to_level) for r in load_body_rules()} >= {("GB", "ombudsman")}


def test_a_data_subject_request_is_owed_the_gdpr_answer_by_its_kind(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        complaint_filed(RECEIVED, jurisdiction="ES-MD", kind="data_subject_request", regimes=[])
    )
    rows = deadlines(ledger)
    # GDPR Art. 12(3): within one month of receipt, the same date next month: received
    # Mon 23 Mar 2026 -> Thu 23 Apr 2026, a working day in Madrid. The extension (two
    # further months, so three from receipt: Tue 23 Jun 2026) must be told within the
    # first month (23 Apr). Applied by kind alone, without being named; the complaint
    # regimes (Ley 7/2017, Ley 10/2025, ISO 10002) are not owed to a data-subject request.
    assert {key: row["due_date"] for key, row in rows.items()} == {
        ("eu.gdpr.art12", "final_response"): dt.date(2026, 4, 23),
        ("eu.gdpr.art12", "final_response_extension_notice"): dt.date(2026, 4, 23),
        ("eu.gdpr.art12", "final_response_extended"): dt.date(2026, 6, 23),
    }


# A GDPR data-subject request received Mon 23 Mar 2026 in Madrid: answer due Thu 23 Apr
# (one month), which is also the last day to notify an extension; extended answer due
# Tue 23 Jun (three months). Due days lapse at Madrid midnight (CEST, UTC+2): 22:00 UTC.
REQUEST = complaint_filed(RECEIVED, jurisdiction="ES-MD", kind="data_subject_request", regimes=[])
GDPR = "eu.gdpr.art12"
NOTICE_LAPSES = dt.datetime(2026, 4, 23, 22, 0, tzinfo=UTC)


def gdpr_statuses(ledger: Ledger, now: dt.datetime) -> dict[str, tuple[str, str]]:
    rows = ledger.rows(f"SELECT * FROM ({with_status(now)}) ORDER BY {KEY}")
    return {r["milestone"]: (r["status"], r["obligation"]) for r in rows if r["regime_id"] == GDPR}


def test_an_extension_notified_in_time_makes_the_extended_deadline_the_duty(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    told = NOTICE_LAPSES - dt.timedelta(minutes=1)  # 23:59 on the last day, Madrid time
    extension = complaint_extended(told, new_deadline=dt.date(2026, 6, 10))
    ledger.feed(REQUEST, extension)

    assert gdpr_statuses(ledger, dt.datetime(2026, 5, 1, tzinfo=UTC)) == {
        "final_response": ("extended", "extended"),
        "final_response_extension_notice": ("met", "conditional"),
        "final_response_extended": ("open", "duty"),
    }
    # Not answered by 23 Jun: the extended deadline, now a duty, is breached.
    late = gdpr_statuses(ledger, dt.datetime(2026, 6, 24, tzinfo=UTC))
    assert late["final_response_extended"] == ("breached", "duty")
    notice = deadlines(ledger)[(GDPR, "final_response_extension_notice")]
    assert (notice["met_at"], notice["met_by"]) == (told, "extension")
    assert notice["event_ids"] == [REQUEST.event_id, extension.event_id]
    (row,) = ledger.table("complaints", "complaint_id")
    assert (row["extension_notified_at"], row["extension_reason"], row["extended_to"]) == (
        told,
        extension.reason_code,
        dt.date(2026, 6, 10),
    )


def test_an_extension_answered_within_the_extended_deadline_is_met(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        REQUEST,
        complaint_extended(dt.datetime(2026, 4, 20, 9, 0, tzinfo=UTC)),
        complaint_resolved(dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC)),
    )

    assert gdpr_statuses(ledger, dt.datetime(2026, 7, 1, tzinfo=UTC)) == {
        "final_response": ("extended", "extended"),
        "final_response_extension_notice": ("met", "conditional"),
        "final_response_extended": ("met", "duty"),
    }


def test_an_extension_notified_after_the_first_month_does_not_extend(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(REQUEST, complaint_extended(NOTICE_LAPSES))  # Madrid midnight: a day late

    assert gdpr_statuses(ledger, dt.datetime(2026, 5, 1, tzinfo=UTC)) == {
        "final_response": ("breached", "duty"),
        "final_response_extension_notice": ("breached", "conditional"),
        "final_response_extended": ("open", "conditional"),
    }


def test_without_an_extension_the_extended_deadline_lapses(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(REQUEST)

    assert gdpr_statuses(ledger, dt.datetime(2026, 7, 1, tzinfo=UTC)) == {
        "final_response": ("breached", "duty"),
        "final_response_extension_notice": ("lapsed", "conditional"),
        "final_response_extended": ("lapsed", "conditional"),
    }


def test_an_extension_after_the_resolution_or_by_another_subject_changes_nothing(
    tmp_path: Path,
) -> None:
    resolved = complaint_resolved(dt.datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    after = [REQUEST, resolved, complaint_extended(dt.datetime(2026, 4, 2, 9, 0, tzinfo=UTC))]
    stranger = [REQUEST, complaint_extended(RECEIVED, subject_id=OTHER_SUBJECT)]
    plain = rows_after(tmp_path / "a.duckdb", [[REQUEST, resolved]], SQL)

    assert rows_after(tmp_path / "b.duckdb", [after], SQL) == plain
    assert rows_after(tmp_path / "c.duckdb", [stranger], SQL) == rows_after(
        tmp_path / "d.duckdb", [[REQUEST]], SQL
    )


def test_the_escalation_register_shows_the_decision_of_the_body(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    to_office = complaint_escalated(
        RECEIVED + dt.timedelta(days=40),
        from_level="frontline",
        to_level="consumer_office",
        body_name="OMIC Madrid",
        initiated_by="customer",
    )
    decided_at = RECEIVED + dt.timedelta(days=90)
    decision = escalation_decided(
        decided_at, level="consumer_office", decision="rejected", external_reference="OMIC-1"
    )
    again = escalation_decided(decided_at, level="consumer_office", decision="upheld")
    foreign = escalation_decided(
        decided_at, level="consumer_office", decision="settled", subject_id=OTHER_SUBJECT
    )
    ledger.feed(FILED, to_office)
    (before,) = escalation_register(ledger)
    # Published under another subject first: it must not hide the complaint's own decision.
    ledger.feed(foreign, decision, again)  # the first decision recorded stands
    (after,) = escalation_register(ledger)

    assert (before["decision"], before["decided_at"]) == (None, None)
    assert (after["decision"], after["decided_at"], after["decision_reference"]) == (
        "rejected",
        decided_at,
        "OMIC-1",
    )
    filtered = query(
        ledger.store.con, REGISTERS["escalations"], {"decision": "rejected"}, shipped_policy()
    )
    assert filtered["total"] == 1


def test_the_register_reports_business_and_calendar_days_open(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(FILED)
    # Open on Wed 15 Apr 2026: 23 days since Mon 23 Mar, 15 of them Madrid working days
    # (the Ley 10/2025 count above).
    now = dt.datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
    page = query(
        ledger.store.con,
        REGISTERS["complaint_deadlines"],
        {"regime_id": "es.ley_10_2025"},
        shipped_policy(),
        now=now,
    )
    (row,) = page["items"]
    assert (row["days_open"], row["business_days_open"]) == (23, 15)
    ledger.feed(RESOLVED_LATE)  # Thu 16 Apr: both stop at the resolution
    later = dt.datetime(2026, 6, 1, tzinfo=UTC)
    page = query(
        ledger.store.con,
        REGISTERS["complaint_deadlines"],
        {"regime_id": "es.ley_10_2025"},
        shipped_policy(),
        now=later,
    )
    (row,) = page["items"]
    assert (row["days_open"], row["business_days_open"]) == (24, 16)
