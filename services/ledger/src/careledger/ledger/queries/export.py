"""Exports: every register and the event log as CSV or Parquet, with a manifest.

The manifest lists each file's rows and SHA-256 and the log position the export reflects.
It holds no wall-clock time, and rows are written in key order, so exporting the same log
twice gives identical bytes. Everything is read in one transaction, so the files agree
with the position; an export is written aside and renamed into place under a name holding
that position (``put_in_place``), so a directory once handed out never changes.

An event's ``payload`` is the exact bytes the stream delivered, a JSON document: Parquet
keeps them as a BLOB; CSV writes them as that JSON text (UTF-8, quoted as CSV quotes), so a
CSV reader and then a JSON parser read back the same bytes. The manifest says so
(``encodings``).
"""

import hashlib
import json
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb

from careledger.ledger.domain.projection import Projection
from careledger.ledger.domain.projections import subject_key

Format = Literal["csv", "parquet"]
VERSION = "careledger-ledger 0.1.0"
LOG_TABLES = {"events": ("sequence",), "rejected": ("sequence",)}
# Left out of the files: the wall-clock time a rejection was written (the same log must
# give the same bytes), and the subject key, an index for queries rather than a fact.
HIDDEN: dict[str, tuple[str, ...]] = {"rejected": ("rejected_at",)}
# BLOB columns holding UTF-8 JSON text, written as that text in CSV (DuckDB would escape
# a BLOB's bytes as \x22 ...); Parquet keeps every BLOB as it is.
JSON_TEXT = {"events": ("payload",)}
ENCODINGS: dict[Format, dict[str, str]] = {
    "csv": {"events.payload": "the exact bytes received: JSON text, UTF-8, CSV-quoted"},
    "parquet": {"events.payload": "the exact bytes received: a BLOB holding UTF-8 JSON"},
}


def tables(projections: Sequence[Projection]) -> dict[str, tuple[str, ...]]:
    """Every exported table and the columns it is ordered by."""
    return LOG_TABLES | {p.name: p.table.key for p in projections}


def hidden(projections: Sequence[Projection]) -> dict[str, tuple[str, ...]]:
    """The columns of each table left out of the files."""
    keyed = {
        p.name: (subject_key.COLUMN,) for p in projections if subject_key.COLUMN in p.table.columns
    }
    return HIDDEN | keyed


def export(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: Format, projections: Sequence[Projection]
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")  # one snapshot: a commit meanwhile changes nothing here
    try:
        return _export(con, out, fmt, projections)
    finally:
        con.execute("ROLLBACK")


def staging_dir(export_dir: Path) -> Path:
    """A fresh directory name to write an export in before ``put_in_place``."""
    return export_dir / f".writing-{uuid.uuid4().hex}"


def put_in_place(staging: Path, final: Path) -> Path:
    """Rename a finished export into place. If ``final`` exists, it holds the same request
    at the same log position, so the same bytes: it is kept and the new copy dropped."""
    try:
        staging.rename(final)
    except OSError:
        shutil.rmtree(staging)
    return final


def _export(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: Format, projections: Sequence[Projection]
) -> dict[str, Any]:
    position = con.execute("SELECT sequence, hash FROM ledger_position").fetchall()
    files = []
    left_out = hidden(projections)
    for table, key in tables(projections).items():
        target = out / f"{table}.{fmt}"
        options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
        quoted = str(target).replace("'", "''")
        columns = _columns(
            left_out.get(table, ()), JSON_TEXT.get(table, ()) if fmt == "csv" else ()
        )
        con.execute(
            f"COPY (SELECT {columns} FROM {table} ORDER BY {', '.join(key)}) "
            f"TO '{quoted}' ({options})"
        )
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        files.append(
            {"file": target.name, "table": table, "rows": rows, "sha256": sha256_of(target)}
        )
    manifest = {
        "format": fmt,
        "log_position": {
            "sequence": position[0][0] if position else 0,
            "hash": bytes(position[0][1]).hex() if position else None,
        },
        "code_version": VERSION,
        "encodings": ENCODINGS[fmt],
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _columns(cut: Sequence[str], as_text: Sequence[str]) -> str:
    """The select list: every column but ``cut``, with ``as_text`` decoded from UTF-8."""
    columns = f"* EXCLUDE ({', '.join(cut)})" if cut else "*"
    if as_text:
        columns += f" REPLACE ({', '.join(f'decode({c}) AS {c}' for c in as_text)})"
    return columns


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
