"""Extending a complaint's deadline (once, before resolution, to a later date) and
recording an external body's decision (once per level the complaint reached)."""

import datetime as dt

import pytest

from careledger.contracts.commands import Command
from careledger.contracts.events import (
    ComplaintDeadlineExtended,
    ComplaintEscalationDecided,
    Event,
)
from careledger.intake.domain.ids import tracking_code_for
from tests.unit.intake.builders import (
    COMPLAINT,
    OCCURRED,
    OTHER_SUBJECT,
    envelope,
    escalate,
    escalate_externally,
    extend,
    file_complaint,
    given,
    open_contact,
    record_decision,
    resolve,
    then_error,
    when,
)


def filed(*more: Command) -> list[Event]:
    """History of a complaint filed on an opened contact, then ``more``."""
    return given(open_contact(), file_complaint(), *more)


def test_an_extension_tells_the_customer_the_reason_and_the_new_date() -> None:
    (event,) = when(extend(), filed())

    assert event == ComplaintDeadlineExtended(
        **envelope(),
        complaint_id=COMPLAINT,
        tracking_code=tracking_code_for(COMPLAINT),
        reason_code="awaiting-carrier-report",
        new_deadline=dt.date(2026, 5, 14),
    )


def test_a_complaint_is_extended_once() -> None:
    error = then_error(extend(), filed(extend()), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "extend_once")


def test_a_resolved_complaint_cannot_be_extended() -> None:
    error = then_error(extend(), filed(resolve()), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "not_resolved")


def test_an_extension_to_a_date_before_the_notice_is_refused() -> None:
    day_before = OCCURRED.date() - dt.timedelta(days=1)

    error = then_error(extend(new_deadline=day_before), filed())

    assert (error.field, error.rule) == ("$.new_deadline", "after_notice")
    assert str(day_before) in error.message


def test_the_new_date_may_be_the_day_of_the_notice() -> None:
    (event,) = when(extend(new_deadline=OCCURRED.date()), filed())

    assert isinstance(event, ComplaintDeadlineExtended)


@pytest.mark.parametrize("command", [extend(), record_decision()])
def test_a_complaint_never_filed_or_of_another_subject_is_refused(command: Command) -> None:
    assert then_error(command, given(open_contact())).rule == "exists"
    other = given(open_contact(subject_id=OTHER_SUBJECT), file_complaint(subject_id=OTHER_SUBJECT))
    assert then_error(command, other).rule == "same_subject"


def test_the_decision_of_a_body_the_complaint_reached_is_recorded() -> None:
    (event,) = when(record_decision(), filed(escalate_externally()))

    assert event == ComplaintEscalationDecided(
        **envelope(),
        complaint_id=COMPLAINT,
        level="consumer_office",
        decision="upheld",
        external_reference="OMIC-MD-77",
    )


def test_a_decision_may_come_after_the_company_resolved_the_complaint() -> None:
    (event,) = when(record_decision(), filed(resolve(), escalate_externally()))

    assert isinstance(event, ComplaintEscalationDecided)


def test_a_decision_of_a_body_the_complaint_never_reached_is_refused_naming_the_levels() -> None:
    error = then_error(record_decision("arbitration"), filed(escalate_externally()))

    assert (error.field, error.rule) == ("$.level", "escalated_there")
    assert "consumer_office" in error.message


@pytest.mark.parametrize("level", ["supervisor", "complaints_department"])
def test_internal_levels_have_no_body_decision(level: str) -> None:
    error = then_error(record_decision(level), filed(escalate(level)))

    assert (error.field, error.rule) == ("$.level", "external_level")


def test_a_body_decides_once_per_level() -> None:
    history = filed(escalate_externally(), record_decision())

    error = then_error(record_decision(), history, status=409)

    assert (error.field, error.rule) == ("$.level", "decide_once")


def test_each_level_reached_gets_its_own_decision() -> None:
    history = filed(
        escalate_externally(),
        record_decision(decision="rejected"),
        escalate_externally("arbitration", body_name="Junta Arbitral de Consumo"),
    )

    (event,) = when(record_decision("arbitration", decision="settled"), history)

    assert isinstance(event, ComplaintEscalationDecided)
    assert (event.level, event.decision) == ("arbitration", "settled")
