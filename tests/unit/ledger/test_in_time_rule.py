"""One "in time" rule: the projection's (a tally counts a final response met in time) and the
register's SQL status (``met``) judge every instant around a due time alike."""

import datetime as dt

import duckdb
import pytest

from careledger.ledger.domain.projections.complaint_deadlines import TABLE, in_time
from careledger.ledger.queries.registers.complaint_deadlines import with_status

DUE = dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)


@pytest.mark.parametrize("whole_day", [True, False])
@pytest.mark.parametrize("offset", [-TICK, dt.timedelta(0), TICK])
def test_the_sql_status_and_the_python_rule_agree_at_the_due_time(
    whole_day: bool, offset: dt.timedelta
) -> None:
    met_at = DUE + offset
    row = dict.fromkeys(TABLE.columns) | {
        "complaint_id": "c",
        "regime_id": "r",
        "milestone": "final_response",
        "received_at": DUE - dt.timedelta(days=10),
        "due": DUE,
        "due_whole_day": whole_day,
        "obligation": "duty",
        "met_at": met_at,
        "event_ids": ["e"],
    }
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(TABLE.ddl())
        names = list(TABLE.columns)
        marks = ", ".join("?" for _ in names)
        con.execute(f"INSERT INTO {TABLE.name} VALUES ({marks})", [row[n] for n in names])
        (status,) = con.execute(f"SELECT status FROM ({with_status(DUE)})").fetchall()[0]
    finally:
        con.close()
    assert (status == "met") == in_time(met_at, row)
    assert in_time(met_at, row) == (
        offset < dt.timedelta(0) or (offset == dt.timedelta(0) and not whole_day)
    )
