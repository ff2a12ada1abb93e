"""Referential integrity of the log: an event may refer only to a contact, consent or
complaint the ledger has seen created (earlier in the log). Intake guarantees this; a
direct publisher may not, and such an event is dead-lettered rather than applied to
registers that could not place it."""

from careledger.contracts.events import (
    ComplaintEvent,
    ComplaintFiled,
    ConsentGiven,
    ConsentWithdrawn,
    ContactClosed,
    ContactOpened,
    Event,
)

Ref = tuple[str, str]  # (kind, id): ("complaint", "0192…")


def created(event: Event) -> Ref | None:
    match event:
        case ContactOpened():
            return ("contact", event.contact_id)
        case ConsentGiven():
            return ("consent", event.consent_id)
        case ComplaintFiled():
            return ("complaint", event.complaint_id)
    return None


def referenced(event: Event) -> Ref | None:
    match event:
        case ContactClosed():
            return ("contact", event.contact_id)
        case ConsentWithdrawn():
            return ("consent", event.consent_id)
        case ComplaintFiled():
            return None
        case ComplaintEvent():  # every step after the filing
            return ("complaint", event.complaint_id)
    return None
