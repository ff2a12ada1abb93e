"""Valid commands, a fixed Context, and the given / when / then of intake's decisions.

Every builder returns a command intake accepts on its own; a test overrides the one field
its rule is about. ``given`` turns accepted commands into history (through the domain);
``when`` decides one command over the events of the aggregates it addresses, as the
application loads them.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from careledger.contracts import Actor, Evidence, Notice, PersonalData, Source
from careledger.contracts.commands import (
    AcknowledgeComplaint,
    CloseContact,
    Command,
    EraseSubject,
    EscalateComplaint,
    ExtendComplaintDeadline,
    FileComplaint,
    GiveConsent,
    OpenContact,
    RecordEscalationDecision,
    ResolveComplaint,
    WithdrawConsent,
)
from careledger.contracts.errors import FieldError
from careledger.contracts.events import Event
from careledger.intake.domain import Context, Rejected, addresses, decide, fold


def an_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"careledger-test:{name}"))


NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)
OCCURRED = NOW - dt.timedelta(minutes=1)
SUBJECT, OTHER_SUBJECT = an_id("subject"), an_id("other-subject")
CONTACT, OTHER_CONTACT = an_id("contact"), an_id("other-contact")
COMPLAINT, CONSENT = an_id("complaint"), an_id("consent")
AGENT = Actor(kind="agent", id="agent-7")
CUSTOMER = Actor(kind="customer", id="self-service")
CTX = Context(now=NOW, event_id=an_id("event"), new_id=an_id("new"))
NOTICE = Notice(id="privacy-notice", version="2026-03", sha256="ab" * 32)
EVIDENCE = Evidence(kind="call_recording", reference="rec-8812")
PERSONAL = PersonalData(name="Zoë Quintanilla-Ybarra")


def envelope(channel: str | None = "phone") -> dict[str, Any]:
    """The envelope of the event a builder's command becomes when decided in CTX."""
    return {
        "event_id": CTX.event_id,
        "occurred_at": OCCURRED,
        "recorded_at": NOW,
        "subject_id": SUBJECT,
        "actor": AGENT,
        "source": Source(service="careledger-intake", client_id="crm-madrid", channel=channel),
        "correlation_id": CTX.event_id,
    }


def common(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "subject_id": SUBJECT,
        "occurred_at": OCCURRED,
        "actor": AGENT,
        "client_id": "crm-madrid",
    }
    return fields | overrides


def open_contact(**overrides: Any) -> OpenContact:
    return OpenContact(
        **common(contact_id=CONTACT, channel="phone", direction="inbound") | overrides
    )


def close_contact(**overrides: Any) -> CloseContact:
    return CloseContact(**common(contact_id=CONTACT, outcome="complaint_filed") | overrides)


def give_consent(**overrides: Any) -> GiveConsent:
    return GiveConsent(
        **common(
            consent_id=CONSENT,
            controller="Acme Telecom SA",
            purposes=["call_recording", "marketing", "profiling"],
            lawful_basis="consent",
            mechanism="verbal",
            notice=NOTICE,
            evidence=EVIDENCE,
            channel="phone",
        )
        | overrides
    )


def withdraw_consent(**overrides: Any) -> WithdrawConsent:
    return WithdrawConsent(**common(consent_id=CONSENT, channel="email") | overrides)


def file_complaint(**overrides: Any) -> FileComplaint:
    return FileComplaint(
        **common(
            complaint_id=COMPLAINT,
            contact_id=CONTACT,
            kind="complaint",
            product="fibre-router",
            cause="faulty-device",
            channel="phone",
            jurisdiction="ES-MD",
            sector="telecom",
            regimes=["es.ley_10_2025"],
        )
        | overrides
    )


def acknowledge(**overrides: Any) -> AcknowledgeComplaint:
    return AcknowledgeComplaint(
        **common(complaint_id=COMPLAINT, deadline_communicated=dt.date(2026, 4, 13)) | overrides
    )


def escalate(to_level: str, **overrides: Any) -> EscalateComplaint:
    fields = common(
        complaint_id=COMPLAINT, to_level=to_level, initiated_by="staff", reason_code="no-reply-48h"
    )
    return EscalateComplaint(**fields | overrides)


def escalate_externally(to_level: str = "consumer_office", **overrides: Any) -> EscalateComplaint:
    fields = {"initiated_by": "customer", "actor": CUSTOMER, "body_name": "OMIC Madrid"}
    return escalate(to_level, **fields | overrides)


def resolve(**overrides: Any) -> ResolveComplaint:
    return ResolveComplaint(
        **common(
            complaint_id=COMPLAINT,
            outcome="upheld",
            escalation_rights_communicated=True,
            escalation_rights_text_version="adr-2026-01",
        )
        | overrides
    )


def extend(**overrides: Any) -> ExtendComplaintDeadline:
    fields = common(
        complaint_id=COMPLAINT,
        reason_code="awaiting-carrier-report",
        new_deadline=dt.date(2026, 5, 14),
    )
    return ExtendComplaintDeadline(**fields | overrides)


def record_decision(level: str = "consumer_office", **overrides: Any) -> RecordEscalationDecision:
    fields = common(
        complaint_id=COMPLAINT, level=level, decision="upheld", external_reference="OMIC-MD-77"
    )
    return RecordEscalationDecision(**fields | overrides)


def erase(**overrides: Any) -> EraseSubject:
    return EraseSubject(**common(legal_basis="gdpr_art_17_1_a") | overrides)


def given(*commands: Command) -> list[Event]:
    """The history these commands leave, each decided (and accepted) in turn."""
    history: list[Event] = []
    for step, command in enumerate(commands):
        ctx = Context(now=NOW, event_id=an_id(f"given-{step}"), new_id=an_id(f"given-new-{step}"))
        history += when(command, history, ctx)
    return history


def when(command: Command, history: Sequence[Event] = (), ctx: Context = CTX) -> list[Event]:
    """Decide ``command`` over the events of the aggregates it addresses."""
    loads = addresses(command, ctx.new_id)
    loaded = [e for e in history if loads.get(e.aggregate) == e.aggregate_id]
    return decide(command, fold(loaded), ctx)


def rejection(command: Command, history: Sequence[Event] = (), ctx: Context = CTX) -> Rejected:
    with pytest.raises(Rejected) as refused:
        when(command, history, ctx)
    return refused.value


def then_error(
    command: Command, history: Sequence[Event] = (), *, status: int = 422, ctx: Context = CTX
) -> FieldError:
    """The one field error ``command`` is refused with, after checking the status."""
    refused = rejection(command, history, ctx)
    assert refused.status == status, refused
    (error,) = refused.errors
    return error
