"""Contacts: every interaction with a customer, by channel, and how it ended."""

from careledger.ledger.queries.register import Register

REGISTER = Register(
    "contacts",
    reads=("contacts",),
    filters=("contact_id", "subject_id", "channel", "status"),
    order=("opened_at", "contact_id"),
)
