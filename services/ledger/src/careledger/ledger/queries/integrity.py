"""What the ledger checks of its own file when it opens, before it consumes or serves.

Cheap, so it runs every start:

1. The tree holds one leaf per event.
2. The root of the stored tree at the last signed checkpoint's size is the root that
   checkpoint signed, and the note's signature by the ledger's key holds.
3. Every leaf after that checkpoint follows from its event (sequence, subject link, chain
   hash, payload), each event's chain hash from its bytes and the hash before it, and the
   last one is the position's head.

An edit before the last checkpoint that leaves the tree alone (an event's bytes changed
and the chain hashes after it recomputed) passes these: the full ``verify``, which the
ledger also runs in the background at start, recomputes every leaf and compares the log
with the stream, and names the first sequence that differs.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from careledger.ledger.adapters import checkpoints, tree
from careledger.ledger.domain.chain import GENESIS, link
from careledger.ledger.domain.merkle import Frontier, leaf, leaf_hash
from careledger.ledger.domain.note import NoteError, Verifier, open_note, parse_checkpoint
from careledger.ledger.domain.signed import Signed

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


def check_at_open(con: duckdb.DuckDBPyConnection, verifier: Verifier) -> list[str]:
    """Every problem found, each naming what failed; [] if none."""
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    leaves = tree.size(con)
    if leaves != events:
        return [f"the Merkle tree has {leaves} leaves for {events} events"]
    latest = checkpoints.latest(con)
    problems = _check_checkpoint(con, latest, verifier) if latest else []
    return problems + _check_tail(con, latest.size if latest else 0)


def _check_checkpoint(
    con: duckdb.DuckDBPyConnection, latest: Signed, verifier: Verifier
) -> list[str]:
    where = f"the checkpoint of size {latest.size} signed at {latest.signed_at.isoformat()}"
    problems = []
    ours = f"\n\u2014 {verifier.name} " in latest.note
    if ours:  # a note signed only by a key rotated out is checked by its own verifier key
        try:
            checkpoint = parse_checkpoint(open_note(latest.note, verifier))
        except NoteError as exc:
            return [f"{where}: {exc}"]
        if (checkpoint.size, checkpoint.root) != (latest.size, latest.root):
            problems.append(f"{where}: its note names another size or root than its row")
    stored = Frontier.of(latest.size, tree.Reader(con).subtree).root()
    if stored != latest.root:
        problems.append(
            f"{where}: the stored tree's root at that size differs from the signed one "
            "(the file was changed; the background verify names the first sequence)"
        )
    return problems


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
    head = con.execute("SELECT hash FROM ledger_position WHERE id = 1").fetchall()
    if rows and head and bytes(head[0][0]) != before:
        return ["the position's head hash is not the last event's hash"]
    return []


def _hash_before(con: duckdb.DuckDBPyConnection, sequence: int) -> bytes:
    rows = con.execute(
        "SELECT hash FROM events WHERE sequence < ? ORDER BY sequence DESC LIMIT 1", [sequence]
    ).fetchall()
    return bytes(rows[0][0]) if rows else GENESIS
