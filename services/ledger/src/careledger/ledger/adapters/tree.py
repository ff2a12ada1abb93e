"""The Merkle tree of the log (``domain.merkle``) kept in DuckDB, written in the same
transaction as the events it covers.

What is stored is what C2SP's tlog-tiles serves: the hashes at levels 0, 8, 16, … (every
complete node at a level that is a multiple of ``TILE``). Leaf hashes are in
``tree_leaves`` (one row per applied event, by leaf index, with its sequence and the
sequence of its subject's previous event); the nodes at levels 8, 16, … in ``tree_nodes``.
Both are only appended to, in index order, so zone maps find a tile's 256 rows without an
index. Any other node is hashed from at most 128 stored hashes of one tile below it: a
proof reads a few tiles per 8 levels, never all the leaves.

The subject link (``subject_prev``) is found through ``subject_key`` (the CRC-32 of the
subject id, as in the registers): the latest leaf with the key is the candidate, and the
event's own ``subject_id`` decides; only on a collision are that key's leaves read with
their subjects.
"""

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from careledger.ledger import duck
from careledger.ledger.domain.merkle import (
    TILE,
    Frontier,
    Node,
    leaf,
    leaf_hash,
    node_hash,
    split,
)
from careledger.ledger.domain.projections.subject_key import TYPE as KEY_TYPE
from careledger.ledger.domain.projections.subject_key import subject_key
from careledger.ledger.duck import registered
from careledger.ledger.ingest.ingest import Outcome

WIDTH = 1 << TILE  # hashes a tile holds

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tree_leaves (
  leaf_index BIGINT NOT NULL,
  sequence BIGINT NOT NULL,
  subject_key {KEY_TYPE} NOT NULL,
  subject_prev BIGINT NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_nodes (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hash BLOB NOT NULL
);
"""
LEAVES_SCHEMA = pa.schema(
    [
        ("leaf_index", pa.int64()),
        ("sequence", pa.int64()),
        ("subject_key", pa.uint32()),
        ("subject_prev", pa.int64()),
        ("hash", pa.binary()),
    ]
)
NODES_SCHEMA = pa.schema([("level", pa.int32()), ("idx", pa.int64()), ("hash", pa.binary())])


@dataclass(frozen=True)
class LeafRow:
    sequence: int
    subject_id: str
    subject_prev: int
    hash: bytes


def size(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM tree_leaves").fetchall()[0][0])


def frontier(con: duckdb.DuckDBPyConnection) -> Frontier:
    """The stored tree's right edge (a few tiles read)."""
    return Frontier.of(size(con), Reader(con).subtree)


def append(con: duckdb.DuckDBPyConnection, size: int, outcome: Outcome) -> None:
    """Store the leaves of a batch's applied events (hashed by ``ingest``) after the
    ``size`` the tree had, and the nodes they complete."""
    applied = outcome.applied
    _stored(
        con,
        size,
        [a.sequence for a in applied],
        [subject_key(a.event.subject_id) for a in applied],
        [a.subject_prev for a in applied],
        [a.leaf_hash for a in applied],
        outcome.nodes,
    )


def store(con: duckdb.DuckDBPyConnection, edge: Frontier, rows: Sequence[LeafRow]) -> Frontier:
    """Append leaves recomputed from the events (planting a tree); the new frontier."""
    new, nodes = edge.append([r.hash for r in rows], keep=TILE)
    keys = [subject_key(r.subject_id) for r in rows]
    prevs, hashes = [r.subject_prev for r in rows], [r.hash for r in rows]
    _stored(con, edge.size, [r.sequence for r in rows], keys, prevs, hashes, nodes)
    return new


def _stored(
    con: duckdb.DuckDBPyConnection,
    size: int,
    sequences: list[int],
    keys: list[int],
    prevs: list[int],
    hashes: list[bytes],
    nodes: list[Node],
) -> None:
    if not hashes:
        return
    leaves = pa.table(
        [
            pa.array(range(size, size + len(hashes)), pa.int64()),
            pa.array(sequences, pa.int64()),
            pa.array(keys, pa.uint32()),
            pa.array(prevs, pa.int64()),
            pa.array(hashes, pa.binary()),
        ],
        schema=LEAVES_SCHEMA,
    )
    with registered(con, "new_leaves", leaves):
        con.execute("INSERT INTO tree_leaves SELECT * FROM new_leaves")
    if nodes:
        with registered(con, "new_nodes", _nodes(nodes)):
            con.execute("INSERT INTO tree_nodes SELECT * FROM new_nodes")


def _nodes(nodes: list[Node]) -> pa.Table:
    return pa.table(
        [
            pa.array([n.level for n in nodes], pa.int32()),
            pa.array([n.index for n in nodes], pa.int64()),
            pa.array([n.hash for n in nodes], pa.binary()),
        ],
        schema=NODES_SCHEMA,
    )


def latest_of_subjects(
    con: duckdb.DuckDBPyConnection, subject_ids: Collection[str]
) -> dict[str, int]:
    """The sequence of each subject's latest leaf (subjects without one are left out)."""
    subjects = {s: subject_key(s) for s in subject_ids}
    keys = pa.table({"key": pa.array(sorted(set(subjects.values())), pa.uint32())})
    with registered(con, "asked_keys", keys):
        candidates = con.execute(
            "SELECT l.subject_key, e.subject_id, l.sequence FROM ("
            "  SELECT subject_key, max(sequence) AS sequence FROM tree_leaves"
            "  WHERE subject_key IN (SELECT key FROM asked_keys) GROUP BY subject_key"
            ") l JOIN events e ON e.sequence = l.sequence"
        ).fetchall()
    latest = {subject: sequence for _, subject, sequence in candidates if subject in subjects}
    taken = {key: subject for key, subject, _ in candidates}
    for subject in subjects.keys() - latest.keys():  # its key's latest is another subject's
        key = subjects[subject]
        if key in taken:
            found = con.execute(
                "SELECT max(l.sequence) FROM tree_leaves l JOIN events e USING (sequence) "
                "WHERE l.subject_key = ? AND e.subject_id = ?",
                [key, subject],
            ).fetchall()[0][0]
            if found is not None:
                latest[subject] = found
    return latest


def recomputed(con: duckdb.DuckDBPyConnection, chunk: int = 10_000) -> Iterator[LeafRow]:
    """Every leaf as the events give it, in log order: what the tree must hold (planting
    it in a file written before it existed; ``verify``)."""
    cursor = duck.cursor(con)
    try:
        cursor.execute(
            "WITH links AS (SELECT sequence, coalesce(lag(sequence) OVER "
            "(PARTITION BY subject_id ORDER BY sequence), 0) AS prev FROM events) "
            "SELECT e.sequence, e.subject_id, l.prev, e.hash, e.payload "
            "FROM events e JOIN links l USING (sequence) ORDER BY e.sequence"
        )
        while rows := cursor.fetchmany(chunk):
            for sequence, subject, prev, hash_, payload in rows:
                data = leaf(sequence, prev, bytes(hash_), bytes(payload))
                yield LeafRow(sequence, subject, prev, leaf_hash(data))
    finally:
        cursor.close()


@dataclass
class Reader:
    """Stored hashes read a tile at a time (cached for one proof): ``subtree(a, b)`` gives
    MTH(D[a:b]) for the ranges RFC 9162's recursion asks, within the stored tree."""

    con: duckdb.DuckDBPyConnection
    tiles: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)

    def subtree(self, a: int, b: int) -> bytes:
        n = b - a
        if n & (n - 1) == 0 and a % n == 0:
            level = n.bit_length() - 1
            return self.node(level, a >> level)
        k = split(n)
        return node_hash(self.subtree(a, a + k), self.subtree(a + k, b))

    def node(self, level: int, index: int) -> bytes:
        base, above = level - level % TILE, level % TILE
        first = index << above  # its leftmost descendant at the stored level below
        tile = self.tile(base // TILE, first // WIDTH)
        hashes = tile[first % WIDTH : first % WIDTH + (1 << above)]
        if len(hashes) != 1 << above:
            raise LookupError(f"node {level}/{index} is beyond the stored tree")
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def tile(self, tile_level: int, index: int) -> list[bytes]:
        key = (tile_level, index)
        if key not in self.tiles:
            lo, hi = index * WIDTH, (index + 1) * WIDTH
            if tile_level == 0:
                sql = (
                    "SELECT hash FROM tree_leaves WHERE leaf_index >= ? AND leaf_index < ? "
                    "ORDER BY leaf_index"
                )
                args: list[int] = [lo, hi]
            else:
                sql = (
                    "SELECT hash FROM tree_nodes WHERE level = ? AND idx >= ? AND idx < ? "
                    "ORDER BY idx"
                )
                args = [tile_level * TILE, lo, hi]
            rows = self.con.execute(sql, args).fetchall()
            self.tiles[key] = [bytes(r[0]) for r in rows]
        return self.tiles[key]
