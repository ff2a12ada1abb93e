"""The registers auditors read, one module each. A new register: a projection in
``domain/projections`` (if it needs a table of its own), a module here declaring its
``REGISTER``, and one line in ``REGISTERS``."""

from careledger.ledger.queries.register import Register, UnknownFilter, query
from careledger.ledger.queries.registers import (
    complaint_deadlines,
    complaints,
    consents,
    contacts,
    erasures,
    escalations,
    timeline,
)

REGISTERS: dict[str, Register] = {
    r.name: r
    for r in (
        contacts.REGISTER,
        consents.REGISTER,
        complaints.REGISTER,
        complaint_deadlines.REGISTER,
        escalations.REGISTER,
        erasures.REGISTER,
        timeline.REGISTER,
    )
}

__all__ = ["REGISTERS", "Register", "UnknownFilter", "query"]
