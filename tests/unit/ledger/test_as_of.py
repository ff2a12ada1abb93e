"""An as-of query at T equals the register of a ledger fed only the events up to T — on
both axes (when things occurred, when the log recorded them), for every register."""

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from careledger.contracts import decode_event
from careledger.contracts.events import Event
from careledger.ledger.domain.projections import projections
from careledger.ledger.ingest.ingest import LogMessage
from careledger.ledger.queries.as_of import (
    Axis,
    BadInstant,
    TooLarge,
    parse_instant,
    register_as_of,
    replay,
)
from careledger.ledger.queries.registers import REGISTERS, UnknownFilter, query
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    Stored,
    an_id,
    at,
    complaint_acknowledged,
    complaint_escalated,
    complaint_filed,
    complaint_resolved,
    consent_given,
    consent_withdrawn,
    contact_closed,
    contact_opened,
    subject_erased,
)

CONTACT_2 = an_id("as-of-contact-2")
C1, C2, C3, C4 = (an_id(f"as-of-consent-{n}") for n in range(1, 5))
LATE = dt.timedelta(minutes=20)


def story() -> list[Event | Stored]:
    """Two subjects, in log order; two events are stored long after they occurred (though
    their publishers claim otherwise), and one of S's events changes a row of X (a
    subject-scoped replay must still see it)."""
    other = {"subject_id": OTHER_SUBJECT}
    return [
        contact_opened(at(0)),
        complaint_filed(at(1)),
        consent_given(at(2), consent_id=C1, purposes=["call_recording", "quality_assurance"]),
        contact_opened(at(3), contact_id=CONTACT_2, **other),
        complaint_acknowledged(at(4)),
        consent_withdrawn(at(5), consent_id=C1, purposes=["call_recording"]),
        consent_given(at(6), consent_id=C2, contact_id=CONTACT_2, **other),
        complaint_escalated(at(7)),
        contact_closed(
            at(8), contact_id=CONTACT_2
        ),  # by S, of X's contact: rows by id, not subject
        Stored(contact_closed(at(3.5)), at(3.5) + LATE),  # backdated
        Stored(consent_given(at(1), consent_id=C3, contact_id=CONTACT_2, **other), at(21)),
        complaint_resolved(at(22)),
        subject_erased(at(23), **other),
        consent_given(at(24), consent_id=C4, purposes=["call_recording"]),
    ]


CUTS = [at(-1), at(0.5), at(3.75), at(6.5), at(21.5), at(23.5), at(60 * 24 * 400)]


@pytest.fixture
def full(tmp_path: Path) -> Iterator[tuple[Ledger, list[LogMessage]]]:
    ledger = Ledger(tmp_path / "full.duckdb")
    messages = ledger.feed(*story()[:6])
    messages += ledger.feed(*story()[6:])  # two batches, as the consumer would
    yield ledger, messages
    ledger.close()


def registers_of(con: Any, at_: dt.datetime, subject: str | None = None) -> dict[str, Any]:
    answers = {}
    for name, register in REGISTERS.items():
        filters = {"subject_id": subject} if subject and "subject_id" in register.filters else {}
        answers[name] = query(con, register, filters, shipped_policy(), limit=1000, now=at_)
    return answers


def fed_only(path: Path, messages: list[LogMessage], axis: Axis, t: dt.datetime) -> Ledger:
    """A second, independent ledger fed only the events up to ``t``, at their own sequences:
    every other message of the log is replaced by bytes that are no event (rejected, in no
    register), since a ledger refuses a log with gaps."""
    kept = {m.sequence for m in messages if when(m, axis) <= t}
    log = [
        m
        if m.sequence in kept
        else LogMessage(m.sequence, m.nats_subject, PLACEHOLDER, recorded_at=m.recorded_at)
        for m in messages
        if m.sequence <= max(kept, default=0)
    ]
    ledger = Ledger(path)
    if log:
        ledger.deliver(log)
    return ledger


PLACEHOLDER = b"not an event: stands for one after T"


def when(message: LogMessage, axis: Axis) -> dt.datetime:
    """Where ``message`` falls on ``axis``: when its event occurred, or when it was stored."""
    return message.recorded_at if axis == "recorded" else decode_event(message.data).occurred_at


def as_of(
    con: Any,
    name: str,
    filters: dict[str, str],
    t: dt.datetime,
    axis: Axis = "occurred",
    limit: int = 100,
) -> dict[str, Any]:
    """``register_as_of`` over the registers the shipped policy gives."""
    policy = shipped_policy()
    return register_as_of(
        con, name, filters, t, axis, projections=projections(policy), policy=policy, limit=limit
    )


@pytest.mark.parametrize("axis", ["occurred", "recorded"])
def test_an_as_of_register_equals_the_register_of_a_ledger_fed_only_the_events_up_to_t(
    full: tuple[Ledger, list[LogMessage]], tmp_path: Path, axis: Axis
) -> None:
    ledger, messages = full
    for n, t in enumerate(CUTS):
        other = fed_only(tmp_path / f"{axis}-{n}.duckdb", messages, axis, t)
        try:
            rejected = other.rows("SELECT payload_sha256 FROM rejected")
            placeholder = hashlib.sha256(PLACEHOLDER).hexdigest()
            assert all(r["payload_sha256"] == placeholder for r in rejected)
            for subject in (None, SUBJECT, OTHER_SUBJECT):
                expected = registers_of(other.store.con, t, subject)
                for name, page in expected.items():
                    filters = (
                        {"subject_id": subject}
                        if "subject_id" in REGISTERS[name].filters and subject
                        else {}
                    )
                    answer = as_of(ledger.store.con, name, filters, t, axis, limit=1000)
                    assert answer["items"] == page["items"], (axis, t, subject, name)
                    assert answer["total"] == page["total"]
        finally:
            other.close()


def test_the_registers_change_over_time_and_the_two_axes_differ_on_backdated_events(
    full: tuple[Ledger, list[LogMessage]],
) -> None:
    con = full[0].store.con
    before = as_of(con, "contacts", {}, at(-1))
    early = as_of(con, "contacts", {"subject_id": SUBJECT}, at(3.75), "occurred")
    known = as_of(con, "contacts", {"subject_id": SUBJECT}, at(3.75), "recorded")
    occurred = as_of(con, "consents", {"subject_id": OTHER_SUBJECT}, at(6.5), "occurred")
    recorded = as_of(con, "consents", {"subject_id": OTHER_SUBJECT}, at(6.5), "recorded")
    now = query(con, REGISTERS["consents"], {"subject_id": OTHER_SUBJECT}, shipped_policy())

    assert before["items"] == [] and before["replayed_events"] == 0
    assert early["items"][0]["status"] == "closed"  # it had closed, as we learnt later
    assert known["items"][0]["status"] == "open"  # what the ledger knew at the time
    assert {r["consent_id"] for r in occurred["items"]} == {C2, C3}
    assert {r["consent_id"] for r in recorded["items"]} == {C2}
    assert now["items"][0]["subject_erased_at"] is not None
    assert occurred["items"][0]["subject_erased_at"] is None


def test_deadline_status_is_read_with_now_equal_to_t(
    full: tuple[Ledger, list[LogMessage]],
) -> None:
    con = full[0].store.con
    soon = as_of(con, "complaint_deadlines", {}, at(5), limit=1000)
    later = as_of(con, "complaint_deadlines", {}, at(60 * 24 * 400), limit=1000)
    assert soon["items"] and {r["status"] for r in soon["items"]} <= {
        "open",
        "at_risk",
        "met",
        "not_computed",
    }
    assert all(r["resolved_at"] is None for r in soon["items"])
    assert all(r["resolved_at"] is not None for r in later["items"])
    assert max(r["days_open"] or 0 for r in soon["items"]) == 0


def test_a_bad_filter_an_instant_without_a_zone_and_a_too_large_replay_are_refused(
    full: tuple[Ledger, list[LogMessage]],
) -> None:
    con = full[0].store.con
    with pytest.raises(UnknownFilter):
        as_of(con, "contacts", {"colour": "red"}, at(1))
    with pytest.raises(BadInstant, match="no zone"):
        parse_instant("2026-03-02T09:00:00")
    with pytest.raises(BadInstant, match="ISO 8601"):
        parse_instant("yesterday")
    for edge in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"):
        with pytest.raises(BadInstant, match="ISO 8601"):  # beyond year 1 or 9999 in UTC
            parse_instant(edge)
    assert parse_instant("2026-03-02T10:00:00+01:00") == at(0)
    with (
        pytest.raises(TooLarge, match="at most 3"),
        replay(con, at(100), "occurred", projections=projections(shipped_policy()), limit=3),
    ):
        pass
