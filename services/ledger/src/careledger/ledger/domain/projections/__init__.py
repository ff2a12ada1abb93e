"""The registers: one module per auditor question, each rebuildable from the log.

Every projection keeps one table, maintained in the same DuckDB transaction as the
events it was built from; every row carries the ids of the events behind it
(``event_ids``: its lineage).
"""

from careledger.ledger.projections import (
    complaint_deadlines,
    complaints,
    consents,
    contacts,
    erasures,
    escalation_decisions,
    escalations,
    timeline,
)
from careledger.ledger.projections._rows import Projection

PROJECTIONS: tuple[Projection, ...] = (
    contacts.PROJECTION,
    consents.PROJECTION,
    complaints.PROJECTION,
    complaint_deadlines.PROJECTION,
    escalations.PROJECTION,
    escalation_decisions.PROJECTION,
    erasures.PROJECTION,
    timeline.PROJECTION,
)

__all__ = ["PROJECTIONS", "Projection"]
