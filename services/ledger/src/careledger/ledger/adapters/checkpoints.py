"""The checkpoints the ledger signed, kept in its file beside the tree they commit to.

A row is written (in its own transaction, by the runner, between batches) when a note is
signed; the same note is then published on the checkpoint stream. Only appended to.
"""

import duckdb

from careledger.ledger.domain.signed import Signed

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
  size BIGINT NOT NULL,
  root BLOB NOT NULL,
  note VARCHAR NOT NULL,
  signed_at TIMESTAMPTZ NOT NULL
);
"""


def latest(con: duckdb.DuckDBPyConnection) -> Signed | None:
    rows = con.execute(
        "SELECT size, root, note, signed_at FROM checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    size, root, note, signed_at = rows[0]
    return Signed(size, bytes(root), note, signed_at)


def record(con: duckdb.DuckDBPyConnection, signed: Signed) -> None:
    con.execute(
        "INSERT INTO checkpoints VALUES (?, ?, ?, ?)",
        [signed.size, signed.root, signed.note, signed.signed_at],
    )


def after(con: duckdb.DuckDBPyConnection, size: int) -> list[Signed]:
    """The checkpoints kept with a larger size than ``size``, smallest first."""
    rows = con.execute(
        "SELECT size, root, note, signed_at FROM checkpoints WHERE size > ? ORDER BY size",
        [size],
    ).fetchall()
    return [Signed(s, bytes(r), n, at) for s, r, n, at in rows]
