"""What an outsider asks of the ledger's Merkle tree (issue 17), for ``bench.queries``: proofs
as ``GET /v1/ledger/proofs/…`` serves them (``queries.proofs``, a cursor per proof), from a
ledger file the bench filled:

- an inclusion proof of a random event in the whole tree;
- an inclusion proof of a random event in a smaller tree (a random size from the event's
  leaf to the whole tree's, as against an older checkpoint);
- a consistency proof between two random sizes.

Each answer counts as its hashes. ``reads`` says what a proof costs in reads of the stored
tree: the tiles it reads (``adapters.tree.Reader``: 256 hashes, one statement each) and the
time one tile read takes on its own.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import duckdb

from bench.common import percentile

SAMPLED = 5000  # leaves the proofs are asked for, drawn once


def questions(con: duckdb.DuckDBPyConnection, rng: random.Random) -> dict[str, Callable[[], Any]]:
    """The three proofs, each a call giving its path; none for a file without a tree (or a
    version of the ledger without one)."""
    try:
        from careledger.ledger.queries import proofs
    except ImportError:
        return {}
    size = _tree_size(con)
    if not size:
        return {}
    leaves = _sampled_leaves(con, rng, size)

    def inclusion_whole() -> Any:
        _, sequence = rng.choice(leaves)
        return proofs.inclusion(con.cursor(), sequence, size)["inclusion_path"]

    def inclusion_smaller() -> Any:
        index, sequence = rng.choice(leaves)
        smaller = rng.randint(index + 1, max(index + 1, size - 1))
        return proofs.inclusion(con.cursor(), sequence, smaller)["inclusion_path"]

    def consistency() -> Any:
        first = rng.randint(1, size)
        return proofs.consistency(con.cursor(), first, rng.randint(first, size))["consistency_path"]

    return {
        "inclusion proof, whole tree": inclusion_whole,
        "inclusion proof, a smaller tree": inclusion_smaller,
        "consistency proof, two random sizes": consistency,
    }


def reads(
    con: duckdb.DuckDBPyConnection,
    rng: random.Random,
    asked: dict[str, Callable[[], Any]],
    repeat: int,
) -> dict[str, Any]:
    """Tiles each proof reads (mean of ``repeat`` asks, untimed), and one tile read of the
    leaves alone, timed ``repeat`` times (ms)."""
    from careledger.ledger.adapters import tree

    made: list[Any] = []
    plain = tree.Reader

    class Counted(plain):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    tiles: dict[str, float] = {}
    tree.Reader = Counted  # type: ignore[misc]
    try:
        for name, ask in asked.items():
            made.clear()
            for _ in range(repeat):
                ask()
            tiles[name] = sum(len(r.tiles) for r in made) / repeat
    finally:
        tree.Reader = plain  # type: ignore[misc]
    width, size = tree.WIDTH, _tree_size(con)
    times = []
    for _ in range(repeat):
        cursor = con.cursor()
        started = time.perf_counter()
        plain(cursor).tile(0, rng.randrange(max(1, size // width)))
        times.append((time.perf_counter() - started) * 1000)
        cursor.close()
    times.sort()
    return {
        "tree_size": size,
        "tiles_per_proof": tiles,
        "tile_read_ms": {"p50": percentile(times, 50), "p99": percentile(times, 99)},
    }


def _tree_size(con: duckdb.DuckDBPyConnection) -> int:
    held = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tree_leaves'"
    ).fetchall()[0][0]
    if not held:
        return 0
    return int(con.execute("SELECT count(*) FROM tree_leaves").fetchall()[0][0])


def _sampled_leaves(
    con: duckdb.DuckDBPyConnection, rng: random.Random, size: int
) -> list[tuple[int, int]]:
    """(leaf index, sequence) of up to ``SAMPLED`` random leaves."""
    indexes = rng.sample(range(size), min(size, SAMPLED))
    return [
        (int(index), int(sequence))
        for index, sequence in con.execute(
            "SELECT leaf_index, sequence FROM tree_leaves "
            "WHERE leaf_index IN (SELECT unnest(?)) ORDER BY leaf_index",
            [indexes],
        ).fetchall()
    ]


def synthetic_tree(path: str, size: int, chunk: int = 100_000) -> None:
    """A ledger file holding only a tree of ``size`` leaves (random leaf hashes, sequence =
    index + 1), as the store writes it: what proofs read, at a size the fill would take
    hours to reach. The events behind the leaves are not there: proofs never read them."""
    import os
    import sys

    from careledger.ledger.adapters import checkpoints, tree
    from careledger.ledger.adapters.tree import LeafRow
    from careledger.ledger.domain.merkle import Frontier
    from careledger.ledger.duck import attached

    con = attached(path, "ledger")
    con.execute(tree.SCHEMA + checkpoints.SCHEMA)
    edge = Frontier()
    started = time.perf_counter()
    while edge.size < size:
        n = min(chunk, size - edge.size)
        rows = [LeafRow(edge.size + i + 1, "s", 0, os.urandom(32)) for i in range(n)]
        con.execute("BEGIN TRANSACTION")
        edge = tree.store(con, edge, rows)
        con.execute("COMMIT")
        if edge.size % 1_000_000 == 0:
            rate = edge.size / (time.perf_counter() - started)
            print(f"planted {edge.size:,} of {size:,} leaves ({rate:,.0f}/s)", file=sys.stderr)
    con.execute("CHECKPOINT")
    con.close()


def main() -> None:
    """``python -m bench.proofs FILE SIZE``: proofs' p50/p99 on a tree of SIZE leaves (made
    in FILE if it holds none), each proof asked 200 times."""
    import json
    import sys
    from pathlib import Path

    from bench.queries import _timed

    path, size = sys.argv[1], int(sys.argv[2])
    if not Path(path).exists():
        synthetic_tree(path, size)
    con = duckdb.connect(path, read_only=True)
    rng = random.Random(17)
    asked = questions(con, rng)
    report: dict[str, Any] = dict(_timed(asked, repeat=200, runs=3))
    report["reads"] = reads(con, rng, asked, 20)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
