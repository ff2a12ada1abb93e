"""What the ledger checks of its own file when it opens, before it consumes or serves.

Cheap, so it runs every start:

1. The tree holds one leaf per event.
2. Every checkpoint it is anchored to opens with a trusted key (the current one, or one
   rotated out): the last one kept in the file (whose row must say what its note says),
   and the last one published on the checkpoint stream, which denies delete and purge, so
   deleting rows from the file does not remove the anchor. The stored tree's root at each
   one's size must be the root it signed.
3. Every leaf after the latest anchor follows from its event (sequence, subject link, chain
   hash, payload), each event's chain hash from its bytes and the hash before it, and the
   position's head is the last event's hash.

An edit before the last checkpoint that leaves the tree alone (an event's bytes changed
and the chain hashes after it recomputed) passes these: the full ``verify``, which the
ledger also runs in the background at start, recomputes every leaf and compares the log
with the stream, and names the first sequence that differs. The ledger signs no new
checkpoint before that verify has passed.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from careledger.ledger.adapters import checkpoints, tree
from careledger.ledger.domain.chain import GENESIS, link
from careledger.ledger.domain.merkle import Frontier, leaf, leaf_hash
from careledger.ledger.domain.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_by_any,
    parse_checkpoint,
)

TAIL_LIMIT = 200_000  # leaves checked at open past the last checkpoint; beyond: verify's


@dataclass
class Integrity:
    """Where the ledger's own checks stand: ``failed`` stops it consuming and serving."""

    state: Literal["checking", "ok", "failed"] = "checking"
    problems: list[str] = field(default_factory=list)
    checked_at: dt.datetime | None = None

    def settle(self, problems: list[str]) -> None:
        self.problems = self.problems + problems
        self.state = "failed" if self.problems else "ok"
        self.checked_at = dt.datetime.now(dt.UTC)


def check_at_open(
    con: duckdb.DuckDBPyConnection, keys: Sequence[Verifier], published: str | None
) -> list[str]:
    """Every problem found, each naming what failed; [] if none. ``keys``: the verifier
    keys of the log; ``published``: the last note on the checkpoint stream, if any."""
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    leaves = tree.size(con)
    if leaves != events:
        return [f"the Merkle tree has {leaves} leaves for {events} events"]
    problems: list[str] = []
    anchors: list[tuple[str, Checkpoint]] = []
    latest = checkpoints.latest(con)
    if latest is not None:
        where = f"the checkpoint of size {latest.size} kept in the file"
        try:
            kept = parse_checkpoint(open_by_any(latest.note, keys))
            anchors.append((where, kept))
            if (kept.size, kept.root) != (latest.size, latest.root):
                problems.append(f"{where}: its row names another size or root than its note")
            if kept.size > leaves:
                problems.append(f"{where}: beyond the file's tree of {leaves} leaves")
        except NoteError as exc:
            problems.append(f"{where}: {exc}")
    if published is not None:
        where = "the checkpoint last published on the checkpoint stream"
        try:
            anchors.append((where, parse_checkpoint(open_by_any(published, keys))))
        except NoteError as exc:
            problems.append(f"{where}: {exc}")
    reader = tree.Reader(con)
    for where, checkpoint in anchors:
        if checkpoint.size > leaves:  # published after a backup the file was restored from
            continue
        if Frontier.of(checkpoint.size, reader.subtree).root() != checkpoint.root:
            problems.append(
                f"{where} (size {checkpoint.size}): the stored tree's root at that size "
                "differs from the signed one (the file was changed; the background verify "
                "names the first sequence)"
            )
    if problems:
        return problems
    covered = max((c.size for _, c in anchors if c.size <= leaves), default=0)
    return _check_tail(con, covered) + _check_head(con)


def _check_tail(con: duckdb.DuckDBPyConnection, first_leaf: int) -> list[str]:
    """The leaves from ``first_leaf`` on, their events and the chain up to the head."""
    rows = con.execute(
        "SELECT l.leaf_index, l.sequence, l.subject_prev, l.hash, e.prev_hash, e.hash, "
        "e.payload FROM tree_leaves l JOIN events e USING (sequence) "
        "WHERE l.leaf_index >= greatest(?, (SELECT count(*) FROM tree_leaves) - ?) "
        "ORDER BY l.leaf_index",
        [first_leaf, TAIL_LIMIT],
    ).fetchall()
    before = _hash_before(con, rows[0][1]) if rows else None
    for index, sequence, prev, leaf_h, prev_hash, chain, payload in rows:
        prev_hash, chain, payload = bytes(prev_hash), bytes(chain), bytes(payload)
        if before is not None and prev_hash != before:
            return [f"sequence {sequence}: prev_hash does not link to the event before"]
        if link(prev_hash, sequence, payload) != chain:
            return [f"sequence {sequence}: stored bytes do not match their hash"]
        if leaf_hash(leaf(sequence, prev, chain, payload)) != bytes(leaf_h):
            return [f"sequence {sequence}: its leaf (index {index}) does not match the event"]
        before = chain
    return []


def _check_head(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The position: the last event's hash, and the last sequence held (applied or not)."""
    head = con.execute("SELECT sequence, hash FROM ledger_position WHERE id = 1").fetchall()
    last = con.execute(
        "SELECT (SELECT hash FROM events ORDER BY sequence DESC LIMIT 1), "
        "greatest((SELECT max(sequence) FROM events), (SELECT max(sequence) FROM rejected))"
    ).fetchall()[0]
    if not head:
        return [] if last[1] is None else ["the position is missing, with events held"]
    sequence, hash_ = head[0][0], bytes(head[0][1])
    if hash_ != (bytes(last[0]) if last[0] is not None else GENESIS):
        return ["the position's head hash is not the last event's hash"]
    if sequence != (last[1] or 0):
        return [f"the position says sequence {sequence}, the last one held is {last[1]}"]
    return []


def _hash_before(con: duckdb.DuckDBPyConnection, sequence: int) -> bytes:
    rows = con.execute(
        "SELECT hash FROM events WHERE sequence < ? ORDER BY sequence DESC LIMIT 1", [sequence]
    ).fetchall()
    return bytes(rows[0][0]) if rows else GENESIS
