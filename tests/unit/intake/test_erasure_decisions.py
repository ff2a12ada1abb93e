"""Erasure (GDPR Art. 17): nothing new for an erased subject; kept records go on, without data."""

import pytest

from careledger.contracts import PersonalData, Retention
from careledger.contracts.commands import Command
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResolved,
    ContactClosed,
    Event,
    SubjectErased,
)
from careledger.intake.domain import fold
from tests.unit.intake.builders import (
    OTHER_CONTACT,
    OTHER_SUBJECT,
    PERSONAL,
    acknowledge,
    close_contact,
    envelope,
    erase,
    escalate,
    escalate_externally,
    file_complaint,
    give_consent,
    given,
    open_contact,
    resolve,
    then_error,
    when,
    withdraw_consent,
)

KEPT = Retention(
    record_class="complaint",
    exemption="art_17_3_b_legal_obligation",
    reason="consumer law requires complaint records for 4 years",
)


def erased() -> list[Event]:
    """A subject with a contact, a consent and a complaint, then erased."""
    return given(open_contact(), give_consent(), file_complaint(), erase(retained=[KEPT]))


def test_erasure_is_recorded_with_its_legal_basis_and_what_was_kept_and_why() -> None:
    events = when(erase(retained=[KEPT]), given(open_contact(), give_consent()))

    assert events == [
        SubjectErased(
            **envelope(None),
            legal_basis="gdpr_art_17_1_a",
            retained=[KEPT],
        )
    ]


def test_a_subject_with_no_history_can_be_erased() -> None:
    (event,) = when(erase())

    assert isinstance(event, SubjectErased)
    assert event.retained == []


def test_erasure_without_a_legal_basis_is_refused() -> None:
    error = then_error(erase(legal_basis=" "))

    assert (error.field, error.rule) == ("$.legal_basis", "required")
    assert "legal basis" in error.message


def test_the_subject_remembers_being_erased() -> None:
    assert fold(erased()).subject.erased


def test_erasing_a_subject_twice_is_a_conflict() -> None:
    error = then_error(erase(), erased(), status=409)

    assert (error.field, error.rule) == ("$.subject_id", "subject_erased")
    assert "already" in error.message


@pytest.mark.parametrize(
    "command",
    [
        open_contact(contact_id=None),
        give_consent(consent_id=None),
        withdraw_consent(),
        file_complaint(complaint_id=None),
    ],
    ids=["open-contact", "give-consent", "withdraw-consent", "file-complaint"],
)
def test_nothing_new_is_recorded_for_an_erased_subject(command: Command) -> None:
    error = then_error(command, erased())

    assert (error.field, error.rule) == ("$.subject_id", "subject_erased")
    assert "Art. 17" in error.message
    assert "no new contact, consent or complaint" in error.message


@pytest.mark.parametrize(
    ("command", "fact"),
    [
        (acknowledge(), ComplaintAcknowledged),
        (escalate_externally(), ComplaintEscalated),
        (resolve(), ComplaintResolved),
        (close_contact(), ContactClosed),
    ],
    ids=["acknowledge", "escalate", "resolve", "close-contact"],
)
def test_kept_records_go_on_after_erasure(command: Command, fact: type[Event]) -> None:
    (event,) = when(command, erased())

    assert isinstance(event, fact)
    assert event.personal is None


@pytest.mark.parametrize(
    "command",
    [escalate("supervisor", personal=PERSONAL), resolve(personal=PERSONAL)],
    ids=["escalate", "resolve"],
)
def test_kept_records_may_not_carry_personal_data_after_erasure(command: Command) -> None:
    error = then_error(command, erased())

    assert (error.field, error.rule) == ("$.personal", "subject_erased")
    assert "may not carry personal data" in error.message


def test_an_empty_personal_section_after_erasure_is_no_personal_data() -> None:
    (event,) = when(resolve(personal=PersonalData()), erased())

    assert isinstance(event, ComplaintResolved)


def test_before_erasure_complaint_steps_may_carry_personal_data() -> None:
    history = given(open_contact(), file_complaint())

    (event,) = when(resolve(personal=PERSONAL), history)

    assert isinstance(event, ComplaintResolved)


def test_the_erasure_of_one_subject_does_not_touch_another() -> None:
    command = open_contact(subject_id=OTHER_SUBJECT, contact_id=OTHER_CONTACT)

    (event,) = when(command, erased())

    assert event.subject_id == OTHER_SUBJECT
