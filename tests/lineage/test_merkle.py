from __future__ import annotations

import pytest

from genesis_sql.lineage.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference vectors of the Certificate Transparency implementation: eight leaf inputs and the
# tree head of each prefix.
LEAF_DATA = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def mth(leaves):
    """RFC 6962 MTH, straight from its recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def leaves(n):
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_reference_vectors():
    hashed = [leaf_hash(d) for d in LEAF_DATA]
    assert [root(hashed[:n]).hex() for n in range(1, 9)] == ROOTS
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_accumulator_matches_the_recursive_definition():
    accumulator, added = MerkleAccumulator(), leaves(70)
    for n, leaf in enumerate(added, start=1):
        accumulator.add(leaf)
        assert accumulator.root() == mth(added[:n])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33])
def test_every_inclusion_proof_verifies_and_tampering_fails(n):
    tree = leaves(n)
    head = root(tree)
    for index in range(n):
        proof = inclusion_proof(tree, index)
        assert verify_inclusion(tree[index], index, n, proof, head)
        assert not verify_inclusion(leaf_hash(b"other"), index, n, proof, head)
        if proof:
            assert not verify_inclusion(tree[index], index, n, proof[:-1], head)
            flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:]] + proof[1:]
            assert not verify_inclusion(tree[index], index, n, flipped, head)
        if n > 1:
            assert not verify_inclusion(tree[index], (index + 1) % n, n, proof, head)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 20])
def test_every_consistency_proof_verifies_and_a_rewrite_fails(n):
    tree = leaves(n)
    for m in range(1, n + 1):
        proof = consistency_proof(tree, m)
        assert verify_consistency(m, n, mth(tree[:m]), root(tree), proof)
        rewritten = [leaf_hash(b"forged")] + tree[1:]
        assert not verify_consistency(m, n, mth(tree[:m]), root(rewritten), consistency_proof(rewritten, m))
        if m < n:
            assert not verify_consistency(m, n, mth(tree[:m]), root(tree), proof[:-1])


def test_proofs_are_logarithmic():
    tree = leaves(1000)
    assert len(inclusion_proof(tree, 500)) == 10
    assert len(consistency_proof(tree, 300)) <= 2 * 10
