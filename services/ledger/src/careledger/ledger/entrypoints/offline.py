"""Commands that work on files rather than the running ledger: rebuild and snapshot SQL."""

import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.deadlines import Policy
from careledger.ledger.ingest.rebuild import rebuild_projections


class ProgressBar:
    """A one-line progress bar on stderr: done/total, rate and a bar."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        rate = done / max(time.monotonic() - self.started, 1e-9)
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{total} ({rate:,.0f}/s)")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def rebuild(db: Path, policy: Policy, workers: int = 1) -> int:
    try:
        store = LedgerStore(db, policy)
    except duckdb.IOException as exc:
        print(
            f"careledger: cannot open {db}: {exc}\nStop the ledger first: it holds the file.",
            file=sys.stderr,
        )
        return 2
    try:
        with store.transaction():
            done = rebuild_projections(
                store.con,
                store.con,
                store.projections,
                ProgressBar("rebuilding"),
                workers,
                policy,
            )
    finally:
        store.close()
    print(f"rebuilt every projection from {done} events in {db}")
    return 0


def sql(snapshot: Path, query: str) -> dict[str, Any]:
    """Run one SELECT over the Parquet files of an export, in a fresh in-memory database."""
    statements = duckdb.extract_statements(query)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        return {
            "http_status": 400,
            "errors": [
                {
                    "field": "query",
                    "rule": "select_only",
                    "message": "give exactly one SELECT statement; nothing else runs here",
                }
            ],
        }
    con = duckdb.connect(":memory:")
    for file in sorted(snapshot.glob("*.parquet")):
        quoted = str(file).replace("'", "''")
        con.execute(f"CREATE VIEW {file.stem} AS SELECT * FROM read_parquet('{quoted}')")
    result = con.execute(query)
    columns = [d[0] for d in result.description]
    rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    con.close()
    return {"snapshot": str(snapshot), "rows": rows}
