"""The registers' projections: one module per auditor question, each rebuildable from the log.

Every projection keeps one table, maintained in the same DuckDB transaction as the
events it was built from; every row carries the ids of the events behind it
(``event_ids``: its lineage). Those that compute deadlines are built with the ``Policy``
the composition root loaded.
"""

from careledger.ledger.deadlines import Policy
from careledger.ledger.domain.projection import Projection
from careledger.ledger.domain.projections import (
    complaint_deadlines,
    complaints,
    consents,
    contacts,
    erasures,
    escalation_decisions,
    escalations,
    timeline,
)


def projections(policy: Policy) -> tuple[Projection, ...]:
    """Every projection the ledger keeps, in the order a batch is applied to them."""
    return (
        contacts.PROJECTION,
        consents.PROJECTION,
        complaints.projection(policy),
        complaint_deadlines.projection(policy),
        escalations.PROJECTION,
        escalation_decisions.PROJECTION,
        erasures.PROJECTION,
        timeline.PROJECTION,
    )


__all__ = ["Projection", "projections"]
