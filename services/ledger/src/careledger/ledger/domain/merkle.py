"""The Merkle tree over the log, exactly as RFC 9162 (§2.1) defines it, and its proofs.

    leaf hash  = SHA-256(0x00 ‖ leaf)
    node hash  = SHA-256(0x01 ‖ left ‖ right)
    MTH(D[n])  = SHA-256() for n = 0; the leaf hash for n = 1; otherwise, with k the largest
                 power of two below n, the node hash of MTH(D[0:k]) and MTH(D[k:n]).

A leaf is one applied event (``leaf``): its stream sequence, the sequence of the event
before it about the same data subject (0: none), its chain hash and its payload exactly
as received. The leaves are the events in log order; leaf ``i`` is the ``i``-th applied
event (rejected messages are not leaves, so indexes and sequences differ).

Pure: proofs are computed over ``Subtree``, a function giving ``MTH(D[a:b])`` for the
ranges the RFC's recursion asks (aligned complete subtrees and the right edges of the
tree), so any storage serves them; ``Frontier`` keeps the tree's right edge as leaves are
appended and says which complete nodes to store. Verification follows the RFC's
algorithms (§2.1.3.2, §2.1.4.2) to the letter.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Subtree = Callable[[int, int], bytes]  # (a, b) -> MTH(D[a:b])
TILE = 8  # levels a store keeps hashes of: 0, 8, 16, … (tlog-tiles' tile height)
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof asked for a leaf or size the tree does not have."""


def leaf(sequence: int, subject_prev: int, chain_hash: bytes, payload: bytes) -> bytes:
    """The leaf of one event: 8-byte big-endian sequence ‖ 8-byte big-endian sequence of the
    subject's previous event (0: none) ‖ 32-byte chain hash ‖ the payload bytes."""
    return sequence.to_bytes(8, "big") + subject_prev.to_bytes(8, "big") + chain_hash + payload


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes held in memory: the definition, for tests and small trees."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    return _path(index, 0, size, subtree)


def _path(m: int, a: int, b: int, subtree: Subtree) -> list[bytes]:
    n = b - a
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*_path(m, a, a + k, subtree), subtree(a + k, b)]
    return [*_path(m - k, a + k, b, subtree), subtree(a, a + k)]


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1), for 0 < first <= second."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    return _subproof(first, 0, second, True, subtree)


def _subproof(m: int, a: int, b: int, whole: bool, subtree: Subtree) -> list[bytes]:
    n = b - a
    if m == n:
        return [] if whole else [subtree(a, b)]
    k = split(n)
    if m <= k:
        return [*_subproof(m, a, a + k, whole, subtree), subtree(a + k, b)]
    return [*_subproof(m - k, a + k, b, False, subtree), subtree(a, a + k)]


def verify_inclusion(
    index: int, size: int, hash_: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show the leaf hash ``hash_`` at ``index`` in the tree
    of ``size`` leaves whose root is ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, hash_
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree of ``second`` leaves (``second_root``)
    extends the tree of ``first`` leaves (``first_root``)? Equal sizes need an empty proof
    and equal roots."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


@dataclass(frozen=True)
class Node:
    """A complete node: ``level`` above the leaves (0: a leaf hash), ``index`` from the left."""

    level: int
    index: int
    hash: bytes


@dataclass(frozen=True)
class Frontier:
    """The tree's right edge: the roots of the complete subtrees its leaves fall into, the
    largest first (one per bit set in ``size``). Enough to append and to give the root."""

    size: int = 0
    edge: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, size: int, subtree: Subtree) -> "Frontier":
        edge, start = [], 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                edge.append(subtree(start, start + (1 << level)))
                start += 1 << level
        return cls(size, tuple(edge))

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        r = self.edge[-1]
        for h in reversed(self.edge[:-1]):
            r = node_hash(h, r)
        return r

    def append(self, leaf_hashes: Iterable[bytes], keep: int) -> tuple["Frontier", list[Node]]:
        """The frontier after appending these leaf hashes, and the nodes above the leaves
        they complete whose level is a multiple of ``keep`` (the levels a store keeps)."""
        size, edge, done = self.size, list(self.edge), []
        for h in leaf_hashes:
            size += 1
            level = 0
            while size >> level & 1 == 0:  # a carry: the rightmost root is h's sibling
                h = node_hash(edge.pop(), h)
                level += 1
                if level % keep == 0:
                    done.append(Node(level, (size >> level) - 1, h))
            edge.append(h)
        return Frontier(size, tuple(edge)), done
