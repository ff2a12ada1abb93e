"""Consent: an affirmative, documented act, withdrawn purpose by purpose (GDPR Art. 4(11), 7)."""

import pytest

from careledger.contracts import Evidence, Notice
from careledger.contracts.events import ConsentGiven, ConsentWithdrawn
from careledger.intake.domain import fold
from careledger.intake.domain.subject import ConsentState
from tests.unit.intake.builders import (
    CONSENT,
    CONTACT,
    CTX,
    EVIDENCE,
    NOTICE,
    OTHER_SUBJECT,
    an_id,
    envelope,
    give_consent,
    given,
    open_contact,
    then_error,
    when,
    withdraw_consent,
)

AFFIRMATIVE = ["unticked_opt_in_box", "keypress", "verbal", "signature", "double_opt_in_confirmed"]


def test_consent_given_by_an_affirmative_act_is_recorded_with_its_evidence() -> None:
    events = when(give_consent(contact_id=CONTACT), given(open_contact()))

    assert events == [
        ConsentGiven(
            **envelope(),
            consent_id=CONSENT,
            controller="Acme Telecom SA",
            purposes=["call_recording", "marketing", "profiling"],
            lawful_basis="consent",
            mechanism="verbal",
            notice=NOTICE,
            evidence=EVIDENCE,
            channel="phone",
            contact_id=CONTACT,
        )
    ]


@pytest.mark.parametrize("mechanism", AFFIRMATIVE)
def test_every_affirmative_mechanism_is_accepted(mechanism: str) -> None:
    (event,) = when(give_consent(mechanism=mechanism))

    assert isinstance(event, ConsentGiven)
    assert event.mechanism == mechanism


def test_a_pre_ticked_box_is_refused_because_the_subject_did_not_tick_it() -> None:
    error = then_error(give_consent(mechanism="pre_ticked_box"))

    assert (error.field, error.rule) == ("$.mechanism", "affirmative_act")
    assert error.message.startswith("a pre-ticked box is not consent")
    assert "Art. 4(11)" in error.message
    assert "Recital 32" in error.message
    assert "unticked_opt_in_box" in error.message


def test_silence_is_refused_because_the_subject_said_or_did_nothing() -> None:
    error = then_error(give_consent(mechanism="silence"))

    assert (error.field, error.rule) == ("$.mechanism", "affirmative_act")
    assert error.message.startswith("silence is not consent")
    assert "Art. 7" in error.message


def test_inactivity_is_refused_because_carrying_on_is_not_agreeing() -> None:
    error = then_error(give_consent(mechanism="inactivity"))

    assert (error.field, error.rule) == ("$.mechanism", "affirmative_act")
    assert error.message.startswith("inactivity is not consent")


def test_each_non_affirmative_mechanism_has_its_own_message() -> None:
    messages = {
        then_error(give_consent(mechanism=m)).message
        for m in ("pre_ticked_box", "silence", "inactivity")
    }

    assert len(messages) == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"controller": "   "}, "$.controller"),
        (
            {"notice": Notice(id="privacy-notice", version=" ", sha256="ab" * 32)},
            "$.notice.version",
        ),
        ({"evidence": Evidence(kind="form_submission", reference="\t")}, "$.evidence.reference"),
        ({"purposes": []}, "$.purposes"),
        ({"purposes": ["marketing", " "]}, "$.purposes[1]"),
    ],
)
def test_consent_with_a_blank_required_field_is_refused(
    overrides: dict[str, object], field: str
) -> None:
    error = then_error(give_consent(**overrides))

    assert (error.field, error.rule) == (field, "required")
    assert "may not be blank" in error.message or "at least one purpose" in error.message


def test_consent_to_call_recording_without_a_lawful_basis_is_refused() -> None:
    error = then_error(give_consent(purposes=["call_recording"], lawful_basis=None))

    assert (error.field, error.rule) == ("$.lawful_basis", "required_for_call_recording")
    assert "lawful basis" in error.message


def test_consent_to_other_purposes_needs_no_lawful_basis() -> None:
    (event,) = when(give_consent(purposes=["marketing"], lawful_basis=None))

    assert isinstance(event, ConsentGiven)
    assert event.lawful_basis is None


def test_consent_given_without_an_id_gets_the_id_derived_for_the_request() -> None:
    (event,) = when(give_consent(consent_id=None))

    assert isinstance(event, ConsentGiven)
    assert event.consent_id == CTX.new_id


def test_giving_a_consent_already_given_is_a_conflict() -> None:
    error = then_error(give_consent(), given(give_consent()), status=409)

    assert (error.field, error.rule) == ("$.consent_id", "unique")
    assert "already given" in error.message


def test_consent_naming_a_contact_never_opened_is_refused() -> None:
    error = then_error(give_consent(contact_id=CONTACT))

    assert (error.field, error.rule) == ("$.contact_id", "exists")


def test_consent_naming_the_contact_of_another_subject_is_refused() -> None:
    history = given(open_contact(subject_id=OTHER_SUBJECT))

    error = then_error(give_consent(contact_id=CONTACT), history)

    assert (error.field, error.rule) == ("$.contact_id", "same_subject")


def test_the_subject_remembers_given_and_still_active_purposes() -> None:
    history = given(give_consent(), withdraw_consent(purposes=["marketing"]))

    consent = fold(history).subject.consents[CONSENT]

    assert consent == ConsentState(
        purposes=("call_recording", "marketing", "profiling"),
        active=("call_recording", "profiling"),
    )


def test_withdrawing_some_purposes_lists_exactly_those() -> None:
    events = when(withdraw_consent(purposes=["marketing"]), given(give_consent()))

    assert events == [
        ConsentWithdrawn(
            **envelope("email"),
            consent_id=CONSENT,
            purposes=["marketing"],
            channel="email",
        )
    ]


def test_withdrawing_without_purposes_withdraws_all_those_still_active() -> None:
    history = given(give_consent(), withdraw_consent(purposes=["marketing"]))

    (event,) = when(withdraw_consent(), history)

    assert isinstance(event, ConsentWithdrawn)
    assert event.purposes == ["call_recording", "profiling"]


def test_withdrawing_a_consent_never_given_is_refused() -> None:
    error = then_error(withdraw_consent())

    assert (error.field, error.rule) == ("$.consent_id", "given")
    assert "never given" in error.message


def test_withdrawing_the_consent_of_another_subject_is_refused() -> None:
    history = given(give_consent(subject_id=OTHER_SUBJECT))

    error = then_error(withdraw_consent(), history)

    assert (error.field, error.rule) == ("$.consent_id", "given")


def test_withdrawing_a_consent_already_fully_withdrawn_is_a_conflict() -> None:
    history = given(give_consent(), withdraw_consent())

    error = then_error(withdraw_consent(), history, status=409)

    assert (error.field, error.rule) == ("$.consent_id", "not_withdrawn")
    assert "already withdrawn" in error.message


def test_withdrawing_a_purpose_the_consent_never_covered_is_refused_naming_it() -> None:
    error = then_error(withdraw_consent(purposes=["marketing", "research"]), given(give_consent()))

    assert (error.field, error.rule) == ("$.purposes", "active_purpose")
    assert "'research'" in error.message
    assert "never given" in error.message
    assert "still active: call_recording, marketing, profiling" in error.message


def test_withdrawing_a_purpose_already_withdrawn_is_a_conflict_naming_it() -> None:
    history = given(give_consent(), withdraw_consent(purposes=["marketing"]))

    error = then_error(withdraw_consent(purposes=["marketing"]), history, status=409)

    assert (error.field, error.rule) == ("$.purposes", "active_purpose")
    assert "'marketing'" in error.message
    assert "already withdrawn" in error.message


def test_a_withdrawal_naming_a_contact_never_opened_is_refused() -> None:
    error = then_error(withdraw_consent(contact_id=an_id("unknown")), given(give_consent()))

    assert (error.field, error.rule) == ("$.contact_id", "exists")


def test_a_withdrawal_on_an_opened_contact_of_the_subject_names_it() -> None:
    history = given(open_contact(), give_consent())

    (event,) = when(withdraw_consent(contact_id=CONTACT), history)

    assert isinstance(event, ConsentWithdrawn)
    assert event.contact_id == CONTACT


def test_the_same_consent_decided_twice_with_the_same_context_gives_equal_events() -> None:
    command = give_consent(consent_id=None)

    assert when(command) == when(command)
