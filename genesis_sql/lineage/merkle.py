"""A Merkle tree over the chain's blocks, hashed as RFC 6962 (Certificate Transparency) says.

Leaf ``i`` is block ``seq = i``; its leaf data is the block's 32-byte hash. Hashes:

    leaf  = SHA-256(0x00 || block hash)
    node  = SHA-256(0x01 || left || right)
    empty = SHA-256("")

The tree of n > 1 leaves splits at k, the largest power of two below n (RFC 6962 section 2.1). Inclusion
and consistency proofs are built as RFC 6962 sections 2.1.1 and 2.1.2 define them and checked with the
algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, so any RFC 6962 verifier accepts them.

Example:
    >>> leaves = [leaf_hash(bytes([i]) * 32) for i in range(5)]
    >>> verify_inclusion(leaves[3], 3, 5, inclusion_proof(leaves, 3), root(leaves))
    True
    >>> verify_consistency(3, 5, root(leaves[:3]), root(leaves), consistency_proof(leaves, 3))
    True
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleAccumulator:
    """The root of a growing list of leaf hashes in O(log n) memory: the perfect subtrees seen so far."""

    def __init__(self) -> None:
        self._peaks: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        size, digest = 1, leaf
        while self._peaks and self._peaks[-1][0] == size:
            _, left = self._peaks.pop()
            size, digest = size * 2, node_hash(left, digest)
        self._peaks.append((size, digest))
        self.size += 1

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves added so far: the peaks folded from the right."""
        if not self._peaks:
            return EMPTY_ROOT
        digest = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            digest = node_hash(left, digest)
        return digest


def root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash of a list of leaf hashes."""
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.add(leaf)
    return accumulator.root()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaves`` (RFC 6962 PATH(m, D[n]))."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is outside a tree of {len(leaves)} leaves")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(root(leaves[lo + k:hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo:lo + k]))
            lo += k
    return path[::-1]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the first ``old_size`` leaves are a prefix of ``leaves`` (RFC 6962 PROOF(m, D[n]))."""
    if not 0 < old_size <= len(leaves):
        raise IndexError(f"a consistency proof needs 0 < old size <= {len(leaves)}; got {old_size}")
    proof: list[bytes] = []
    lo, hi, m, complete = 0, len(leaves), old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(root(leaves[lo + k:hi]))
            hi = lo + k
        else:
            proof.append(root(leaves[lo:lo + k]))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append(root(leaves[lo:hi]))
    return proof[::-1]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size`` leaves with that root."""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            digest = node_hash(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = node_hash(sibling, first)
            second = node_hash(sibling, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first == old_root and second == new_root
