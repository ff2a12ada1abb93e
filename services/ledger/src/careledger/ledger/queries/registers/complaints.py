"""Complaints: each complaint, where it stands, and how it was closed."""

from careledger.ledger.queries.register import Register

REGISTER = Register(
    "complaints",
    reads=("complaints",),
    filters=(
        "complaint_id",
        "tracking_code",
        "subject_id",
        "status",
        "channel",
        "kind",
        "product",
        "cause",
        "level",
        "jurisdiction",
    ),
    order=("received_at", "complaint_id"),
)
