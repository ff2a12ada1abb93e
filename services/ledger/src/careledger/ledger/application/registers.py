"""The questions auditors ask of the registers: filtered, paged, in a stable order.

Filters are whitelisted per register and bound as parameters; nothing from a request is
ever spliced into SQL.
"""

from dataclasses import dataclass
from typing import Any

import duckdb

from careledger.ledger.projections import consents, escalations

MAX_PAGE = 1000


@dataclass(frozen=True)
class Register:
    """A register: the table or query an auditor reads, its filters and its order."""

    table: str
    filters: tuple[str, ...]
    order: tuple[str, ...]
    source: str = ""

    @property
    def relation(self) -> str:
        return f"({self.source}) AS {self.table}" if self.source else self.table


REGISTERS: dict[str, Register] = {
    "contacts": Register(
        "contacts", ("contact_id", "subject_id", "channel", "status"), ("opened_at", "contact_id")
    ),
    "consents": Register(
        "consents",
        ("consent_id", "subject_id", "purpose", "state", "controller", "channel"),
        ("given_at", "consent_id", "purpose"),
        consents.WITH_ERASURE,
    ),
    "complaints": Register(
        "complaints",
        (
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
        ("received_at", "complaint_id"),
    ),
    "escalations": Register(
        "escalations",
        ("complaint_id", "subject_id", "to_level", "initiated_by"),
        ("escalated_at", "event_id"),
        escalations.WITH_COMPLAINT,
    ),
    "erasures": Register("erasures", ("subject_id", "legal_basis"), ("erased_at", "subject_id")),
    "timeline": Register("timeline", ("subject_id", "type", "aggregate_id"), ("sequence",)),
}


class UnknownFilter(ValueError):
    def __init__(self, register: str, name: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{register} cannot be filtered by {name!r}; use one of {allowed}")
        self.field = name


def query(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: dict[str, str],
    *,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    register = REGISTERS[name]
    for key in filters:
        if key not in register.filters:
            raise UnknownFilter(name, key, register.filters)
    where = " AND ".join(f"{k} = ?" for k in filters) or "TRUE"
    params = list(filters.values())
    limit = max(1, min(limit, MAX_PAGE))
    total = con.execute(
        f"SELECT count(*) FROM {register.relation} WHERE {where}", params
    ).fetchall()
    result = con.execute(
        f"SELECT * FROM {register.relation} WHERE {where} "
        f"ORDER BY {', '.join(register.order)} LIMIT ? OFFSET ?",
        [*params, limit, max(offset, 0)],
    )
    columns = [d[0] for d in result.description]
    items = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    return {"items": items, "total": total[0][0], "limit": limit, "offset": offset}
