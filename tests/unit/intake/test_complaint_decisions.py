"""Complaints: filed on a contact, acknowledged once, escalated upward, resolved once."""

import pytest

from careledger.contracts import Redress
from careledger.contracts.commands import Command
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintResolved,
    Event,
)
from careledger.intake.domain import fold
from careledger.intake.domain.complaint import ComplaintState
from careledger.intake.domain.ids import tracking_code_for
from tests.unit.intake.builders import (
    COMPLAINT,
    CONTACT,
    CTX,
    OTHER_SUBJECT,
    SUBJECT,
    acknowledge,
    envelope,
    escalate,
    escalate_externally,
    file_complaint,
    given,
    open_contact,
    resolve,
    then_error,
    when,
)

REFUND = Redress(amount="49.90", currency="EUR", kind="refund")


def filed(*more: Command) -> list[Event]:
    """History of a complaint filed on an opened contact, then ``more``."""
    return given(open_contact(), file_complaint(), *more)


def test_a_complaint_on_an_opened_contact_is_filed_with_its_tracking_code() -> None:
    events = when(file_complaint(), given(open_contact()))

    assert events == [
        ComplaintFiled(
            **envelope(),
            complaint_id=COMPLAINT,
            tracking_code=tracking_code_for(COMPLAINT),
            contact_id=CONTACT,
            kind="complaint",
            product="fibre-router",
            cause="faulty-device",
            channel="phone",
            jurisdiction="ES-MD",
            sector="telecom",
            regimes=["es.ley_10_2025"],
        )
    ]


def test_a_complaint_filed_without_an_id_gets_the_derived_id_and_its_tracking_code() -> None:
    (event,) = when(file_complaint(complaint_id=None), given(open_contact()))

    assert isinstance(event, ComplaintFiled)
    assert event.complaint_id == CTX.new_id
    assert event.tracking_code == tracking_code_for(CTX.new_id)


def test_a_complaint_on_a_contact_never_opened_is_refused() -> None:
    error = then_error(file_complaint())

    assert (error.field, error.rule) == ("$.contact_id", "exists")
    assert "never opened" in error.message


def test_a_complaint_on_the_contact_of_another_subject_is_refused() -> None:
    error = then_error(file_complaint(), given(open_contact(subject_id=OTHER_SUBJECT)))

    assert (error.field, error.rule) == ("$.contact_id", "same_subject")


def test_filing_the_same_complaint_twice_is_a_conflict() -> None:
    error = then_error(file_complaint(), filed(), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "unique")
    assert "already filed" in error.message


def test_a_complaint_remembers_its_level_acknowledgement_and_outcome() -> None:
    history = filed(acknowledge(), escalate("supervisor"), resolve())

    assert fold(history).complaint == ComplaintState(
        complaint_id=COMPLAINT,
        subject_id=SUBJECT,
        contact_id=CONTACT,
        tracking_code=tracking_code_for(COMPLAINT),
        channel="phone",
        level="supervisor",
        escalated_internally=True,
        acknowledged=True,
        outcome="upheld",
        levels_reached=frozenset({"supervisor"}),
    )


def test_acknowledgement_gives_the_customer_the_tracking_code_and_deadline() -> None:
    (event,) = when(acknowledge(), filed())

    assert isinstance(event, ComplaintAcknowledged)
    assert event.tracking_code == tracking_code_for(COMPLAINT)
    assert event.deadline_communicated is not None


@pytest.mark.parametrize("command", [acknowledge(), escalate("supervisor"), resolve()])
def test_acting_on_a_complaint_never_filed_is_refused(command: Command) -> None:
    error = then_error(command, given(open_contact()))

    assert (error.field, error.rule) == ("$.complaint_id", "exists")
    assert "never filed" in error.message


@pytest.mark.parametrize("command", [acknowledge(), escalate("supervisor"), resolve()])
def test_acting_on_the_complaint_of_another_subject_is_refused(command: Command) -> None:
    other = given(open_contact(subject_id=OTHER_SUBJECT), file_complaint(subject_id=OTHER_SUBJECT))

    error = then_error(command, other)

    assert (error.field, error.rule) == ("$.complaint_id", "same_subject")


def test_acknowledging_twice_is_a_conflict() -> None:
    error = then_error(acknowledge(), filed(acknowledge()), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "acknowledge_once")
    assert "already acknowledged" in error.message


def test_acknowledging_after_resolution_is_a_conflict() -> None:
    error = then_error(acknowledge(), filed(resolve()), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "not_resolved")
    assert "already resolved (upheld)" in error.message


def test_staff_escalate_from_frontline_to_a_supervisor() -> None:
    (event,) = when(escalate("supervisor"), filed())

    assert isinstance(event, ComplaintEscalated)
    assert (event.from_level, event.to_level, event.initiated_by) == (
        "frontline",
        "supervisor",
        "staff",
    )
    assert event.reason_code == "no-reply-48h"


def test_the_escalation_starts_from_the_level_the_complaint_is_at() -> None:
    (event,) = when(escalate("complaints_department"), filed(escalate("supervisor")))

    assert isinstance(event, ComplaintEscalated)
    assert event.from_level == "supervisor"


def test_an_escalation_that_goes_down_a_level_is_refused_naming_both_levels() -> None:
    history = filed(escalate("complaints_department"))

    error = then_error(escalate("supervisor"), history)

    assert (error.field, error.rule) == ("$.to_level", "escalates_upward")
    assert "at level 'complaints_department'" in error.message
    assert "'supervisor' is not accepted" in error.message
    assert "only goes up" in error.message


def test_an_escalation_that_stays_at_the_same_level_is_refused() -> None:
    error = then_error(escalate("supervisor"), filed(escalate("supervisor")))

    assert (error.field, error.rule) == ("$.to_level", "escalates_upward")
    assert "levels above 'supervisor': complaints_department, consumer_office" in error.message


def test_an_escalation_to_frontline_is_refused_as_it_is_where_complaints_start() -> None:
    error = then_error(escalate("frontline"), filed())

    assert (error.field, error.rule) == ("$.to_level", "escalates_upward")


def test_nothing_is_above_court() -> None:
    history = filed(escalate_externally("court", body_name="Juzgado de Madrid"))

    error = then_error(escalate_externally("court", body_name="Tribunal Supremo"), history)

    assert (error.field, error.rule) == ("$.to_level", "escalates_upward")
    assert "levels above 'court': none" in error.message


def test_staff_may_not_go_to_an_external_body_before_an_internal_escalation() -> None:
    error = then_error(escalate("consumer_office", body_name="OMIC Madrid"), filed())

    assert (error.field, error.rule) == ("$.to_level", "internal_before_external")
    assert "only after an internal escalation" in error.message


def test_staff_may_go_to_an_external_body_after_an_internal_escalation() -> None:
    history = filed(escalate("supervisor"))

    (event,) = when(escalate("arbitration", body_name="Junta Arbitral de Consumo"), history)

    assert isinstance(event, ComplaintEscalated)
    assert (event.from_level, event.to_level) == ("supervisor", "arbitration")
    assert event.body_name == "Junta Arbitral de Consumo"


def test_a_customer_going_external_first_does_not_count_as_an_internal_escalation() -> None:
    history = filed(escalate_externally("consumer_office"))

    error = then_error(escalate("arbitration", body_name="Junta Arbitral de Consumo"), history)

    assert (error.field, error.rule) == ("$.to_level", "internal_before_external")


def test_a_customer_may_go_to_a_consumer_office_at_any_time() -> None:
    (event,) = when(escalate_externally(external_reference="OMIC-2026-114"), filed())

    assert isinstance(event, ComplaintEscalated)
    assert (event.from_level, event.to_level) == ("frontline", "consumer_office")
    assert (event.initiated_by, event.external_reference) == ("customer", "OMIC-2026-114")


def test_a_customer_may_go_to_an_external_body_after_the_complaint_is_resolved() -> None:
    (event,) = when(escalate_externally("ombudsman"), filed(resolve(outcome="rejected")))

    assert isinstance(event, ComplaintEscalated)
    assert event.to_level == "ombudsman"


@pytest.mark.parametrize("initiated_by", ["staff", "customer"])
def test_an_internal_escalation_after_resolution_is_a_conflict(initiated_by: str) -> None:
    error = then_error(
        escalate("supervisor", initiated_by=initiated_by), filed(resolve()), status=409
    )

    assert (error.field, error.rule) == ("$.to_level", "not_resolved")
    assert "already resolved" in error.message


@pytest.mark.parametrize("body_name", [None, "  "])
def test_an_external_escalation_must_name_the_body(body_name: str | None) -> None:
    error = then_error(escalate_externally(body_name=body_name), filed())

    assert (error.field, error.rule) == ("$.body_name", "required_for_external_level")
    assert "'consumer_office'" in error.message


def test_an_upheld_complaint_is_resolved_with_redress_and_escalation_rights() -> None:
    (event,) = when(resolve(redress=REFUND), filed(acknowledge()))

    assert isinstance(event, ComplaintResolved)
    assert (event.outcome, event.redress) == ("upheld", REFUND)
    assert event.escalation_rights_communicated is True
    assert event.escalation_rights_text_version == "adr-2026-01"


def test_a_partially_upheld_complaint_may_carry_redress() -> None:
    (event,) = when(resolve(outcome="partially_upheld", redress=REFUND), filed())

    assert isinstance(event, ComplaintResolved)
    assert event.redress == REFUND


@pytest.mark.parametrize("outcome", ["rejected", "withdrawn"])
def test_a_complaint_not_upheld_may_not_carry_a_redress_amount(outcome: str) -> None:
    error = then_error(resolve(outcome=outcome, redress=REFUND), filed())

    assert (error.field, error.rule) == ("$.redress", "redress_only_if_upheld")
    assert f"resolved as '{outcome}'" in error.message
    assert "49.90 EUR" in error.message


def test_a_rejected_complaint_may_carry_redress_without_an_amount() -> None:
    apology = Redress(amount="0.00", currency="EUR", kind="apology")

    (event,) = when(resolve(outcome="rejected", redress=apology), filed())

    assert isinstance(event, ComplaintResolved)
    assert event.redress == apology


@pytest.mark.parametrize("version", [None, " "])
def test_escalation_rights_communicated_must_name_the_text_version(version: str | None) -> None:
    error = then_error(resolve(escalation_rights_text_version=version), filed())

    assert (error.field, error.rule) == (
        "$.escalation_rights_text_version",
        "required_when_rights_communicated",
    )
    assert "version" in error.message


def test_escalation_rights_not_communicated_need_no_text_version() -> None:
    command = resolve(escalation_rights_communicated=False, escalation_rights_text_version=None)

    (event,) = when(command, filed())

    assert isinstance(event, ComplaintResolved)
    assert event.escalation_rights_communicated is False


def test_resolving_twice_is_a_conflict() -> None:
    error = then_error(resolve(outcome="rejected"), filed(resolve()), status=409)

    assert (error.field, error.rule) == ("$.complaint_id", "not_resolved")
    assert "resolved only once" in error.message


def test_the_same_complaint_decided_twice_with_the_same_context_gives_equal_events() -> None:
    command, history = file_complaint(complaint_id=None), given(open_contact())

    assert when(command, history) == when(command, history)
