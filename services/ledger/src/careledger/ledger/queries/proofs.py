"""Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4) from the stored tree, and the
signed checkpoints they are checked against. Hashes travel as standard base64, as in the
C2SP checkpoint's root line."""

import base64
from dataclasses import dataclass
from typing import Any

import duckdb

from careledger.ledger.adapters import checkpoints, tree
from careledger.ledger.domain.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
)


class NotInTree(LookupError):
    """A sequence the tree has no leaf for (rejected, not yet applied, or never sent)."""


@dataclass(frozen=True)
class Leaf:
    index: int
    sequence: int
    subject_prev: int
    hash: bytes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tree_size(con: duckdb.DuckDBPyConnection) -> int:
    return tree.size(con)


def leaf_of(con: duckdb.DuckDBPyConnection, sequence: int) -> Leaf:
    rows = con.execute(
        "SELECT leaf_index, sequence, subject_prev, hash FROM tree_leaves WHERE sequence = ?",
        [sequence],
    ).fetchall()
    if not rows:
        raise NotInTree(f"sequence {sequence} is not an event in the ledger's tree")
    index, sequence, prev, hash_ = rows[0]
    return Leaf(index, sequence, prev, bytes(hash_))


def inclusion(
    con: duckdb.DuckDBPyConnection, sequence: int, size: int | None = None
) -> dict[str, Any]:
    """The inclusion proof of the event at ``sequence`` in the tree of ``size`` leaves
    (default: the latest signed checkpoint's size, else the whole tree)."""
    con.execute("BEGIN TRANSACTION")  # the leaf, the size and the tiles from one snapshot
    try:
        size = _size(con, size)
        found = leaf_of(con, sequence)
        reader = tree.Reader(con)
        proof = inclusion_proof(found.index, size, reader.subtree)
        root = reader.subtree(0, size)
    finally:
        con.execute("ROLLBACK")
    return {
        "sequence": found.sequence,
        "leaf_index": found.index,
        "subject_prev": found.subject_prev,
        "leaf_hash": b64(found.hash),
        "tree_size": size,
        "root_hash": b64(root),
        "inclusion_path": [b64(h) for h in proof],
    }


def consistency(
    con: duckdb.DuckDBPyConnection, first: int, second: int | None = None
) -> dict[str, Any]:
    """The consistency proof from the tree of ``first`` leaves to that of ``second``."""
    con.execute("BEGIN TRANSACTION")
    try:
        second = _size(con, second)
        reader = tree.Reader(con)
        proof = consistency_proof(first, second, reader.subtree)
        roots = reader.subtree(0, first), reader.subtree(0, second)
    finally:
        con.execute("ROLLBACK")
    return {
        "first": first,
        "second": second,
        "first_root": b64(roots[0]),
        "second_root": b64(roots[1]),
        "consistency_path": [b64(h) for h in proof],
    }


def _size(con: duckdb.DuckDBPyConnection, size: int | None) -> int:
    held = tree.size(con)
    if size is None:
        latest = checkpoints.latest(con)
        return latest.size if latest else held
    if not 0 < size <= held:
        raise ProofError(f"size {size} is not a tree the ledger has held (1 to {held})")
    return size
