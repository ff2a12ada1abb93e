"""Contacts: opened once, on one channel, closed once; and what every decision shares."""

import datetime as dt

from careledger.contracts.events import ContactClosed, ContactOpened
from tests.unit.intake.builders import (
    CONTACT,
    CTX,
    NOW,
    OTHER_SUBJECT,
    PERSONAL,
    close_contact,
    envelope,
    given,
    open_contact,
    then_error,
    when,
)

SKEW = CTX.max_clock_skew


def test_an_inbound_phone_contact_is_opened_with_the_envelope_from_command_and_context() -> None:
    events = when(open_contact(agent="agent-7"))

    assert events == [
        ContactOpened(
            **envelope(),
            contact_id=CONTACT,
            channel="phone",
            direction="inbound",
            agent="agent-7",
        )
    ]


def test_a_contact_opened_without_an_id_gets_the_id_derived_for_the_request() -> None:
    (event,) = when(open_contact(contact_id=None))

    assert isinstance(event, ContactOpened)
    assert event.contact_id == CTX.new_id


def test_the_correlation_id_of_the_command_is_kept() -> None:
    correlation = "0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f"

    (event,) = when(open_contact(correlation_id=correlation))

    assert event.correlation_id == correlation


def test_occurred_at_in_another_time_zone_is_recorded_in_utc() -> None:
    madrid = dt.timezone(dt.timedelta(hours=1))

    (event,) = when(open_contact(occurred_at=NOW.astimezone(madrid)))

    assert event.occurred_at == NOW
    assert event.occurred_at.tzinfo == dt.UTC


def test_a_decision_carries_no_personal_data_nor_a_reference_to_it() -> None:
    (event,) = when(open_contact(personal=PERSONAL))

    assert event.personal is None  # the application stores it and attaches the reference
    assert PERSONAL.name not in repr(event)


def test_opening_the_same_contact_twice_is_a_conflict() -> None:
    error = then_error(open_contact(), given(open_contact()), status=409)

    assert (error.field, error.rule) == ("$.contact_id", "unique")
    assert "already open" in error.message


def test_a_social_media_contact_must_name_its_network() -> None:
    error = then_error(open_contact(channel="social"))

    assert (error.field, error.rule) == ("$.network", "required")
    assert "social" in error.message


def test_a_social_media_contact_with_its_network_is_opened() -> None:
    (event,) = when(open_contact(channel="social", network="twitter"))

    assert isinstance(event, ContactOpened)
    assert (event.channel, event.network) == ("social", "twitter")


def test_a_network_on_a_contact_that_is_not_social_media_is_refused() -> None:
    error = then_error(open_contact(channel="email", network="twitter"))

    assert (error.field, error.rule) == ("$.network", "only_for_social")
    assert "only for channel 'social'" in error.message


def test_an_opened_contact_is_closed_with_its_outcome_on_its_channel() -> None:
    (event,) = when(close_contact(), given(open_contact(channel="chat")))

    assert isinstance(event, ContactClosed)
    assert (event.contact_id, event.outcome) == (CONTACT, "complaint_filed")
    assert event.source.channel == "chat"


def test_closing_a_contact_never_opened_is_refused() -> None:
    error = then_error(close_contact())

    assert (error.field, error.rule) == ("$.contact_id", "exists")
    assert "never opened" in error.message


def test_closing_the_contact_of_another_data_subject_is_refused() -> None:
    error = then_error(close_contact(subject_id=OTHER_SUBJECT), given(open_contact()))

    assert (error.field, error.rule) == ("$.contact_id", "same_subject")
    assert "another data subject" in error.message


def test_closing_a_contact_twice_is_a_conflict() -> None:
    error = then_error(close_contact(), given(open_contact(), close_contact()), status=409)

    assert (error.field, error.rule) == ("$.contact_id", "open")
    assert "already closed" in error.message


def test_occurred_at_beyond_the_clock_skew_in_the_future_is_refused() -> None:
    error = then_error(open_contact(occurred_at=NOW + SKEW + dt.timedelta(seconds=1)))

    assert (error.field, error.rule) == ("$.occurred_at", "not_in_future")
    assert "in the future" in error.message
    assert "120 s of clock skew" in error.message


def test_occurred_at_within_the_clock_skew_is_accepted() -> None:
    for ahead in (dt.timedelta(seconds=30), SKEW):
        (event,) = when(open_contact(occurred_at=NOW + ahead))

        assert event.occurred_at == NOW + ahead


def test_the_clock_skew_rule_holds_for_every_command_not_only_contacts() -> None:
    late = NOW + SKEW + dt.timedelta(minutes=5)

    error = then_error(close_contact(occurred_at=late), given(open_contact()))

    assert (error.field, error.rule) == ("$.occurred_at", "not_in_future")


def test_the_same_command_decided_twice_with_the_same_context_gives_equal_events() -> None:
    command = open_contact(contact_id=None, channel="social", network="whatsapp")

    assert when(command) == when(command)
