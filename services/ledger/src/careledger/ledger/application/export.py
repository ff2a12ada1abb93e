"""Exports: every register and the event log as CSV or Parquet, with a manifest.

The manifest lists each file's rows and SHA-256 and the log position the export reflects.
It holds no wall-clock time, and rows are written in key order, so exporting the same log
twice gives identical bytes.
"""

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import duckdb

from careledger.ledger.projections import PROJECTIONS

Format = Literal["csv", "parquet"]
VERSION = "careledger-ledger 0.1.0"
LOG_TABLES = {"events": ("sequence",), "rejected": ("sequence",)}


def tables() -> dict[str, tuple[str, ...]]:
    """Every exported table and the columns it is ordered by."""
    return LOG_TABLES | {p.name: p.table.key for p in PROJECTIONS}


def export(con: duckdb.DuckDBPyConnection, out: Path, fmt: Format) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    position = con.execute("SELECT sequence, hash FROM ledger_position").fetchall()
    files = []
    for table, key in tables().items():
        target = out / f"{table}.{fmt}"
        options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
        quoted = str(target).replace("'", "''")
        columns = "* EXCLUDE (rejected_at)" if table == "rejected" else "*"  # wall-clock time
        con.execute(
            f"COPY (SELECT {columns} FROM {table} ORDER BY {', '.join(key)}) "
            f"TO '{quoted}' ({options})"
        )
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        files.append({"file": target.name, "table": table, "rows": rows, "sha256": _sha256(target)})
    manifest = {
        "format": fmt,
        "log_position": {
            "sequence": position[0][0] if position else 0,
            "hash": bytes(position[0][1]).hex() if position else None,
        },
        "code_version": VERSION,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
