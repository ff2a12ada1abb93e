"""The periodic complaints return (FCA DISP 1.10 style), for any period, by product, cause
or channel, as JSON rows or as CSV / Parquet files with a manifest.

**Period.** ``[start, end)`` are calendar dates in UTC: from 00:00 UTC on ``start`` up to,
not including, 00:00 UTC on ``end`` (server UTC, as every timestamp of the trail). A
complaint is received when ``ComplaintFiled.occurred_at`` says, closed at its first
``ComplaintResolved.occurred_at`` (the ``complaints`` register's ``received_at`` and
``resolved_at``); a complaint of any kind counts.

**Counts** (table ``counts``; one row per value of the dimension, then the total row with
``total`` true and the dimension NULL; a value appears if any of its counts is non-zero):

- ``outstanding_at_start``: received before the period, not closed before it;
- ``opened``: received in the period; ``closed``: closed in the period;
- ``closed_within_3_business_days``: closed in the period by the end of the third business
  day after the day of receipt (DISP 1.5.1R), counted exactly as the ``summary_resolution``
  milestone of ``uk.fca.disp``: the complaint's jurisdiction calendar (weekends and
  ``holidays``, regional where the catalogue has the subdivision), a receipt on a
  non-working day or after 17:00 local counts from the next business day, the whole third
  day counts (to local midnight);
- ``closed_within_8_weeks``: closed in the period *after* those 3 business days but by the
  end of eight weeks after receipt (local date of receipt + 56 days, whole day, no
  roll-forward: the ``final_response`` milestone of ``uk.fca.disp``);
- ``closed_after_8_weeks``: closed in the period later than that. The three bands
  partition closed complaints as DISP 1.10.2R's return does (within 3 business days /
  more than 3 business days and up to 8 weeks / more than 8 weeks), so they add up to ``closed``
  together with ``closed_unbanded``: complaints whose calendar cannot tell (no calendar for
  the jurisdiction, a date beyond its supported years; the reasons are in ``unbanded``);
- ``upheld``: closed in the period with outcome ``upheld`` or ``partially_upheld`` (partly
  upheld counts as upheld);
- ``redress_paid``: closed in the period with a redress amount above zero (the redress the
  resolution records). Amounts per currency are in table ``redress`` (never summed across
  currencies).

**Per regime** (table ``regimes``): for complaints closed in the period, per regime id,
how many had a ``final_response`` deadline (``with_deadline``), how many were closed in
time (``within_deadline``: status ``met`` in ``complaint_deadlines``) and the share,
rounded to 4 places. The deadline in force counts: the base ``final_response``, or
``final_response_extended`` where an extension notice came in time. Regimes without a
``final_response`` milestone, and rows without a due date, are not counted.

The counts come from the ``complaints`` register's tallies by UTC day (``complaint_days``,
``complaint_redress_days``, ``complaint_regime_days``): a return reads a few rows per day
of the log, not every complaint received before the period. A complaint whose first
resolution falls in the period is closed in it, whatever its filing's clock says.
Every statement runs in one read transaction, so the tables agree with ``log_position``.
Only bound parameters carry request values; the dimension is checked against a whitelist.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb
import pyarrow as pa

from careledger.ledger.domain.projections.complaint_days import CLOSED
from careledger.ledger.duck import registered
from careledger.ledger.queries.export import VERSION, Format, sha256_of

Dimension = Literal["product", "cause", "channel"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)


class InvalidReturn(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def utc_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


PERIODS = ("this-month", "last-month")


def named_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """``this-month`` (the month of ``today``) or ``last-month``, as ``[start, end)``."""
    first = today.replace(day=1)
    if name == "this-month":
        return first, (first + dt.timedelta(days=32)).replace(day=1)
    if name == "last-month":
        return (first - dt.timedelta(days=1)).replace(day=1), first
    raise InvalidReturn("period", f"period is one of {', '.join(PERIODS)}, not {name!r}")


def complaints_return(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    by: str,
) -> dict[str, Any]:
    """The return for ``[start, end)`` (UTC dates) by ``by``: its tables as lists of rows."""
    document, tables = _compute(con, start, end, by)
    return document | {name: table.to_pylist() for name, table in tables.items()}


def write_return(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    fmt: Format,
    start: dt.date,
    end: dt.date,
    by: str,
) -> dict[str, Any]:
    """The return as one file per table in ``out`` plus ``manifest.json`` (rows and SHA-256
    of each file, the log position; no wall-clock time, so the same return gives the same
    bytes)."""
    document, tables = _compute(con, start, end, by)
    out.mkdir(parents=True, exist_ok=True)
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
    files = []
    for name, table in tables.items():
        target = out / f"{name}.{fmt}"
        quoted = str(target).replace("'", "''")
        with registered(con, "return_rows", table):
            con.execute(f"COPY (SELECT * FROM return_rows) TO '{quoted}' ({options})")
        files.append(
            {
                "file": target.name,
                "table": name,
                "rows": table.num_rows,
                "sha256": sha256_of(target),
            }
        )
    manifest = document | {"format": fmt, "code_version": VERSION, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _compute(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    by: str,
) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    if by not in DIMENSIONS:
        raise InvalidReturn("by", f"by is one of {', '.join(DIMENSIONS)}, not {by!r}")
    if start >= end:
        raise InvalidReturn("to", f"the period is [from, to): to ({end}) must be after {start}")
    days = {"start": start, "end": end}
    con.execute("BEGIN TRANSACTION")
    try:
        position = con.execute("SELECT sequence, hash FROM ledger_position").fetchall()
        tables = {
            "counts": con.sql(_counts_sql(by), params=days).to_arrow_table(),
            "redress": con.sql(_redress_sql(by), params=days).to_arrow_table(),
            "regimes": con.sql(_REGIMES, params=days).to_arrow_table(),
        }
        instants = {"start": utc_start(start), "end": utc_start(end)}
        unbanded = [
            {"complaint_id": complaint_id, "reason": reason}
            for complaint_id, reason in con.execute(_UNBANDED, instants).fetchall()
        ]
    finally:
        con.execute("ROLLBACK")
    document = {
        "return": "complaints",
        "period": {"from": start.isoformat(), "to": end.isoformat(), "timezone": "UTC"},
        "by": by,
        "log_position": {
            "sequence": position[0][0] if position else 0,
            "hash": bytes(position[0][1]).hex() if position else None,
        },
        "unbanded": unbanded,
    }
    return document, tables


_UNBANDED = (
    "SELECT complaint_id, return_band_problem FROM complaints "
    "WHERE resolved_at >= $start AND resolved_at < $end AND return_band IS NULL "
    "ORDER BY complaint_id"
)


def _counts_sql(by: str) -> str:
    """Outstanding at the start: received before it, less received and closed before it."""

    def summed(measure: str, days: str) -> str:
        return f"CAST(coalesce(sum({measure}) FILTER (WHERE {days}), 0) AS BIGINT)"

    before, within = "day < $start", "day >= $start"
    closed = "".join(f", {summed(n, within)} AS {n}" for n in ("closed", *CLOSED))
    counted = (
        f"SELECT grouping({by}) = 1 AS total, {by}, "
        f"{summed('received', before)} - {summed('settled', before)} AS outstanding_at_start, "
        f"{summed('received', within)} AS opened{closed} "
        f"FROM complaint_days WHERE day < $end GROUP BY GROUPING SETS (({by}), ())"
    )
    return (
        f"SELECT * FROM ({counted}) "
        "WHERE total OR outstanding_at_start > 0 OR opened > 0 OR closed > 0 "
        f"ORDER BY total, {by}"
    )


def _redress_sql(by: str) -> str:
    return (
        f"SELECT grouping({by}) = 1 AS total, {by}, currency, "
        "CAST(sum(complaints) AS BIGINT) AS complaints, sum(amount) AS amount "
        "FROM complaint_redress_days WHERE day >= $start AND day < $end "
        f"GROUP BY GROUPING SETS (({by}, currency), (currency)) "
        f"ORDER BY total, {by}, currency"
    )


_REGIMES = (
    "SELECT regime_id, CAST(sum(with_deadline) AS BIGINT) AS with_deadline, "
    "CAST(sum(within_deadline) AS BIGINT) AS within_deadline, "
    "round(sum(within_deadline) / sum(with_deadline), 4) AS share_within_deadline "
    "FROM complaint_regime_days WHERE day >= $start AND day < $end "
    "GROUP BY regime_id ORDER BY regime_id"
)
