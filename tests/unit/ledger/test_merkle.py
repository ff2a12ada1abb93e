"""The Merkle tree against RFC 6962/9162's reference vectors (the Certificate Transparency
project's merkle_tree_test.cc: eight leaves, the root of every size, inclusion and
consistency proofs), and every proof of many tree shapes round-tripped and tampered."""

import random

import pytest

from careledger.ledger.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (0-based leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
HASHES = [leaf_hash(d) for d in LEAVES]


def over(hashes: list[bytes]):  # a Subtree over leaf hashes in memory
    return lambda a, b: root_of(hashes[a:b])


def test_every_root_matches_the_reference_roots():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(len(LEAVES) + 1):
        assert root_of(HASHES[:size]).hex() == ROOTS[size], size


def test_the_frontier_gives_the_reference_root_after_every_append():
    frontier = Frontier()
    for size, h in enumerate(HASHES, start=1):
        frontier, _ = frontier.append([h], keep=8)
        assert frontier.root().hex() == ROOTS[size]
        assert Frontier.of(size, over(HASHES)).root() == frontier.root()


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index, size, expected):
    proof = inclusion_proof(index, size, over(HASHES))
    assert [p.hex() for p in proof] == expected
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(index, size, HASHES[index], proof, root)
    assert not verify_inclusion(index, size, HASHES[index], proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(first, second, expected):
    proof = consistency_proof(first, second, over(HASHES))
    assert [p.hex() for p in proof] == expected
    a, b = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, a, b, proof)


def test_every_proof_of_every_shape_verifies_and_a_changed_hash_does_not():
    rng = random.Random(9162)
    hashes = [leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(70)]
    roots = {n: root_of(hashes[:n]) for n in range(1, 71)}
    for size in range(1, 71):
        for index in range(size):
            proof = inclusion_proof(index, size, over(hashes))
            assert verify_inclusion(index, size, hashes[index], proof, roots[size])
            assert not verify_inclusion(index, size, leaf_hash(b"another"), proof, roots[size])
            assert not verify_inclusion(index + 1, size, hashes[index], proof, roots[size])
        for first in range(1, size + 1):
            proof = consistency_proof(first, size, over(hashes))
            assert verify_consistency(first, size, roots[first], roots[size], proof)
            if first < size:
                forked = leaf_hash(b"another history")
                assert not verify_consistency(first, size, forked, roots[size], proof)
                assert not verify_consistency(first, size, roots[first], roots[size], proof[:-1])


def test_the_frontier_reports_the_nodes_a_store_keeps():
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    frontier, nodes = Frontier().append(hashes[:300], keep=8)
    frontier, more = frontier.append(hashes[300:], keep=8)
    kept = nodes + more
    assert [(n.level, n.index) for n in kept] == [(8, 0), (8, 1), (8, 2)]
    assert [n.hash for n in kept] == [root_of(hashes[256 * i : 256 * (i + 1)]) for i in range(3)]
    assert frontier.root() == root_of(hashes)


def test_proofs_refuse_leaves_and_sizes_the_tree_does_not_have():
    with pytest.raises(ProofError, match="leaf 8 is not in a tree of size 8"):
        inclusion_proof(8, 8, over(HASHES))
    with pytest.raises(ProofError, match="from size 0"):
        consistency_proof(0, 3, over(HASHES))
    with pytest.raises(ProofError, match="from size 5 to size 3"):
        consistency_proof(5, 3, over(HASHES))


def test_a_leaf_commits_to_sequence_subject_link_chain_hash_and_payload():
    data = leaf(7, 3, bytes(range(32)), b'{"type":"ContactOpened"}')
    assert data[:8] == (7).to_bytes(8, "big")
    assert data[8:16] == (3).to_bytes(8, "big")
    assert data[16:48] == bytes(range(32))
    assert data[48:] == b'{"type":"ContactOpened"}'
