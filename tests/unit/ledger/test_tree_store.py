"""The Merkle tree as the store keeps it: one leaf per applied event, written with the
batch, proofs from a few stored tiles, the subject links, and a tree planted in a file
written before it existed."""

from pathlib import Path

import pytest

from careledger.ledger.adapters import store as store_module
from careledger.ledger.adapters import tree
from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.domain.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import (
    OTHER_SUBJECT,
    SUBJECT,
    Ledger,
    an_id,
    contact_opened,
)


def opened(n: int, subject: str = SUBJECT):
    return contact_opened(contact_id=an_id(f"contact-{n}"), subject_id=subject)


def stored_leaves(store: LedgerStore) -> list[tuple[int, int, bytes]]:
    rows = store.con.execute(
        "SELECT sequence, subject_prev, hash FROM tree_leaves ORDER BY leaf_index"
    ).fetchall()
    return [(s, p, bytes(h)) for s, p, h in rows]


def test_every_applied_event_is_a_leaf_committed_with_its_batch(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        ledger.feed(*(opened(n, SUBJECT if n % 3 else OTHER_SUBJECT) for n in range(600)))
        events = ledger.store.con.execute(
            "SELECT sequence, hash, payload FROM events ORDER BY sequence"
        ).fetchall()
        leaves = stored_leaves(ledger.store)
        assert [s for s, _, _ in leaves] == [s for s, _, _ in events]
        for (sequence, prev, h), (_, chain, payload) in zip(leaves, events, strict=True):
            assert h == leaf_hash(leaf(sequence, prev, bytes(chain), bytes(payload)))
        root = root_of([h for _, _, h in leaves])
        assert ledger.store.position().tree.root() == ledger.position.tree.root() == root
        kept = ledger.store.con.execute("SELECT level, idx FROM tree_nodes ORDER BY idx").fetchall()
        assert kept == [(8, 0), (8, 1)]  # 600 leaves: two complete tiles of 256
    finally:
        ledger.close()


def test_each_leaf_links_to_its_subjects_previous_event(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        ledger.feed(opened(1), opened(2, OTHER_SUBJECT))
        ledger.feed(opened(3), opened(4), opened(5, OTHER_SUBJECT))
        links = [(s, p) for s, p, _ in stored_leaves(ledger.store)]
        assert links == [(1, 0), (2, 0), (3, 1), (4, 3), (5, 2)]
    finally:
        ledger.close()


def test_proofs_from_stored_tiles_verify_against_the_root(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        for batch in range(5):
            ledger.feed(*(opened(batch * 1000 + n, an_id(f"s{n % 7}")) for n in range(700)))
        store = ledger.store
        hashes = [h for _, _, h in stored_leaves(store)]
        size = len(hashes)
        reader = tree.Reader(store.cursor())
        root = store.position().tree.root()
        for index in (0, 255, 256, 1000, 2047, size - 1):
            proof = inclusion_proof(index, size, reader.subtree)
            assert verify_inclusion(index, size, hashes[index], proof, root)
        for first in (1, 256, 1000, 3333, size):
            proof = consistency_proof(first, size, reader.subtree)
            assert verify_consistency(first, size, root_of(hashes[:first]), root, proof)
        assert len(reader.tiles) <= 12  # a few tiles, never all the leaves
    finally:
        ledger.close()


def test_a_failed_commit_leaves_the_tree_as_the_file_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    try:
        ledger.feed(opened(1), opened(2))
        before = ledger.store.position().tree

        def disk_full(*_: object) -> None:
            raise OSError("No space left on device")

        with monkeypatch.context() as patch:
            patch.setattr(store_module.tables, "apply", disk_full)  # after the tree's rows
            with pytest.raises(OSError, match="No space"):
                ledger.feed(opened(3))
        assert ledger.store.position().tree == before
        assert tree.size(ledger.store.con) == 2
        ledger.position = ledger.store.position()
        ledger.feed(opened(4))
        hashes = [h for _, _, h in stored_leaves(ledger.store)]
        assert ledger.store.position().tree.root() == root_of(hashes) and len(hashes) == 3
    finally:
        ledger.close()


def test_a_file_written_before_the_tree_gets_one_on_open(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    ledger.feed(*(opened(n, an_id(f"s{n % 5}")) for n in range(300)))
    root, leaves = ledger.store.position().tree.root(), stored_leaves(ledger.store)
    ledger.store.con.execute("DROP TABLE tree_leaves; DROP TABLE tree_nodes")
    ledger.close()
    store = LedgerStore(path, shipped_policy())
    try:
        assert store.position().tree.root() == root
        assert stored_leaves(store) == leaves
    finally:
        store.close()
