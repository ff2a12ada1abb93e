"""Consents: each consent per purpose, with its evidence, and whether its subject was erased
(joined from ``erasures`` at read time: the consent rows stay as they were, Art. 17(3))."""

import datetime as dt

from careledger.ledger.deadlines import Policy
from careledger.ledger.queries.register import Register

WITH_ERASURE = (
    "SELECT c.*, e.erased_at AS subject_erased_at "
    "FROM consents c LEFT JOIN erasures e USING (subject_id)"
)


def with_erasure(policy: Policy, now: dt.datetime) -> str:
    return WITH_ERASURE


REGISTER = Register(
    "consents",
    reads=("consents", "erasures"),
    filters=("consent_id", "subject_id", "purpose", "state", "controller", "channel"),
    order=("given_at", "consent_id", "purpose"),
    source=with_erasure,
    subject_keyed=True,
)
