"""A data subject's timeline: every event about them, in log order."""

from careledger.ledger.queries.register import Register

REGISTER = Register(
    "timeline",
    reads=("timeline",),
    filters=("subject_id", "type", "aggregate_id"),
    order=("sequence",),
    subject_keyed=True,
)
