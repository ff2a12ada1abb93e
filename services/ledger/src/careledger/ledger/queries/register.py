"""What a register is, and how one is read: filtered, paged, in a stable order.

A register declares itself in one module of ``queries/registers/``: its name, the
projections its rows come from (``reads``: an as-of question replays only those), its
filters and order, and, where an auditor reads more than its table, the SQL of what they
read (``source``) and what each row of a page gains (``finish``).

Filters are whitelisted per register and bound as parameters; nothing from a request is
ever spliced into SQL. (The body-deadline rules are: as quoted literals, from the operator's
file, validated when loaded.)
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from careledger.ledger.deadlines import Policy
from careledger.ledger.domain.projections import subject_key

MAX_PAGE = 1000
Row = dict[str, Any]


@dataclass(frozen=True)
class Register:
    """``source(policy, now)``: the SQL of the rows an auditor reads, when they are more
    than ``name``'s table (a join, a status as of ``now``). ``finish(row, policy, now)``:
    what a row of a page gains that SQL cannot give. ``subject_keyed``: its rows carry
    ``subject_key``, which a ``subject_id`` filter also asks and answers leave out."""

    name: str
    reads: tuple[str, ...]
    filters: tuple[str, ...]
    order: tuple[str, ...]
    source: Callable[[Policy, dt.datetime], str] | None = None
    finish: Callable[[Row, Policy, dt.datetime], Row] | None = None
    subject_keyed: bool = False

    def relation(self, policy: Policy, now: dt.datetime) -> str:
        return f"({self.source(policy, now)}) AS {self.name}" if self.source else self.name

    def check(self, filters: dict[str, str]) -> None:
        for key in filters:
            if key not in self.filters:
                raise UnknownFilter(self.name, key, self.filters)


class UnknownFilter(ValueError):
    def __init__(self, register: str, name: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{register} cannot be filtered by {name!r}; use one of {allowed}")
        self.field = name


def query(
    con: duckdb.DuckDBPyConnection,
    register: Register,
    filters: dict[str, str],
    policy: Policy,
    *,
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A page of ``register``; statuses that move with time are as of ``now`` (the clock,
    if not given).

    A table's page is chosen first by ``rowid`` from the filter and order columns, and only
    its rows are read whole: every matching row's ``event_ids`` list cost more than the
    rest (docs/performance.md)."""
    now = now or dt.datetime.now(dt.UTC)
    register.check(filters)
    asked: dict[str, str | int] = {}
    if register.subject_keyed and "subject_id" in filters:  # the key first: the cheap test
        asked[subject_key.COLUMN] = subject_key.subject_key(filters["subject_id"])
    asked |= filters
    where = " AND ".join(f"{k} = ?" for k in asked) or "TRUE"
    params = list(asked.values())
    selected = f"* EXCLUDE ({subject_key.COLUMN})" if register.subject_keyed else "*"
    limit = max(1, min(limit, MAX_PAGE))
    relation = register.relation(policy, now)
    total = con.execute(f"SELECT count(*) FROM {relation} WHERE {where}", params).fetchall()
    order = ", ".join(register.order)
    page = f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    if not register.source:
        page = f"WHERE rowid IN (SELECT rowid FROM {register.name} {page}) ORDER BY {order}"
    result = con.execute(
        f"SELECT {selected} FROM {relation} {page}", [*params, limit, max(offset, 0)]
    )
    columns = [d[0] for d in result.description]
    items = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    if register.finish is not None:
        items = [register.finish(item, policy, now) for item in items]
    return {"items": items, "total": total[0][0], "limit": limit, "offset": offset}
