"""The contact aggregate: one interaction with a customer through one channel."""

from dataclasses import dataclass, replace

from careledger.contracts.commands import CloseContact, OpenContact
from careledger.contracts.events import ContactClosed, ContactOpened, Event
from careledger.intake.domain.decision import Context, envelope, reject


@dataclass(frozen=True)
class ContactState:
    contact_id: str | None = None
    subject_id: str | None = None
    channel: str | None = None
    closed: bool = False

    @property
    def exists(self) -> bool:
        return self.contact_id is not None


def evolve(state: ContactState, event: Event) -> ContactState:
    match event:
        case ContactOpened():
            return ContactState(event.contact_id, event.subject_id, event.channel)
        case ContactClosed():
            return replace(state, closed=True)
    return state


def open_contact(command: OpenContact, contact: ContactState, ctx: Context) -> Event:
    if contact.exists:
        reject(
            "$.contact_id",
            "unique",
            f"contact {contact.contact_id} is already open; use a new contact_id "
            "(or omit it and intake derives one from the Idempotency-Key)",
            status=409,
        )
    if command.channel == "social" and command.network is None:
        reject("$.network", "required", "a contact on channel 'social' must name the network")
    if command.channel != "social" and command.network is not None:
        reject("$.network", "only_for_social", "network is only for channel 'social'")
    return ContactOpened(
        **envelope(command, ctx, command.channel),
        contact_id=command.contact_id or ctx.new_id,
        channel=command.channel,
        network=command.network,
        direction=command.direction,
        mode=command.mode,
        agent=command.agent,
    )


def close_contact(command: CloseContact, contact: ContactState, ctx: Context) -> Event:
    require_contact_of_subject("$.contact_id", command.contact_id, command.subject_id, contact)
    if contact.closed:
        reject(
            "$.contact_id", "open", f"contact {command.contact_id} is already closed", status=409
        )
    return ContactClosed(
        **envelope(command, ctx, contact.channel),
        contact_id=command.contact_id,
        outcome=command.outcome,
    )


def require_contact_of_subject(
    field: str, contact_id: str, subject_id: str, contact: ContactState
) -> None:
    """The named contact was opened, and with this data subject."""
    if not contact.exists:
        reject(field, "exists", f"contact {contact_id} was never opened: open the contact first")
    if contact.subject_id != subject_id:
        reject(field, "same_subject", f"contact {contact_id} belongs to another data subject")
