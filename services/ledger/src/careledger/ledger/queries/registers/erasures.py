"""Erasures: which data subjects were erased, when, why, and what was kept."""

from careledger.ledger.queries.register import Register

REGISTER = Register(
    "erasures",
    reads=("erasures",),
    filters=("subject_id", "legal_basis"),
    order=("erased_at", "subject_id"),
)
