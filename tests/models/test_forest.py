"""Sampling primitives of the leaf mixture: leaf choice, categories per leaf, truncated normals."""
from __future__ import annotations

import numpy as np
from scipy import stats

from genesis_sql.models._forest import (
    DenseCategories,
    SparseCategories,
    TruncatedNormals,
    _leaf_shares,
    _offset_cumulative,
    pick_by_weight,
)
from genesis_sql.models._search import GuideTable


def test_leaves_are_picked_in_proportion_to_their_weight_and_never_at_zero_weight():
    rng = np.random.default_rng(0)
    weight = rng.exponential(size=200) * (rng.random(200) < 0.8)
    cumulative = np.cumsum(weight)
    u = rng.random(400_000)
    leaf = pick_by_weight(GuideTable([cumulative], side="right"), u)
    assert np.array_equal(leaf, np.minimum(np.searchsorted(cumulative, u * cumulative[-1], side="right"), 199))
    assert not np.isin(leaf, np.flatnonzero(weight == 0)).any()
    share = np.bincount(leaf, minlength=200) / u.size
    assert np.abs(share - weight / weight.sum()).max() < 3e-3


def _sparse(rng: np.random.Generator, leaves: int, categories: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random leaf distributions over categories in the stored sparse form: (leaf, code, share) per entry."""
    present = rng.random((leaves, categories)) < 0.5
    present[np.arange(leaves), rng.integers(0, categories, leaves)] = True
    leaf_of, codes = np.nonzero(present)
    counts = rng.integers(1, 50, leaf_of.size).astype(float)
    return leaf_of, codes.astype(np.int32), counts / np.bincount(leaf_of, weights=counts)[leaf_of]


def test_dense_and_sparse_category_samplers_draw_the_leaf_shares_alike():
    rng = np.random.default_rng(1)
    leaf_of, codes, share = _sparse(rng, 300, 6)
    cumulative = _offset_cumulative(leaf_of, share)
    recovered_leaf, recovered_share = _leaf_shares(cumulative)
    assert np.array_equal(recovered_leaf, leaf_of) and np.allclose(recovered_share, share)
    dense = DenseCategories.of(leaf_of, codes, share, 300)
    sparse = SparseCategories(codes, cumulative)
    leaf, u = rng.integers(0, 300, 300_000), rng.random(300_000)
    picked = dense.pick(leaf, u)
    # Single-precision shares move a boundary by at most ~1e-7: the two disagree on a handful of rows.
    assert np.mean(picked != sparse.pick(leaf, u)) < 1e-4
    frequency = np.zeros((300, 6))
    np.add.at(frequency, (leaf, picked), 1.0)
    frequency /= frequency.sum(axis=1, keepdims=True)
    expected = np.zeros((300, 6))
    expected[leaf_of, codes] = share
    assert np.all(frequency[expected == 0] == 0)
    assert np.abs(frequency - expected).max() < 0.05


def test_truncated_normals_follow_the_truncated_distribution_within_their_range():
    rng = np.random.default_rng(2)
    u = rng.random(200_000)
    # Below, around and far above the mean (inverted through the survival function), and a point mass.
    for mean, sd, low, high in [(0.0, 1.0, -3.0, -1.0), (0.5, 2.0, -1.0, 4.0), (0.0, 1.0, 6.0, 7.5),
                                (1.5, 0.0, 1.5, 1.5)]:
        draws = TruncatedNormals.of(np.full(u.size, mean), np.full(u.size, sd), np.full(u.size, low),
                                    np.full(u.size, high)).invert(u)
        assert draws.min() >= low and draws.max() <= high
        if sd == 0:
            assert np.all(draws == mean)
            continue
        a, b = (low - mean) / sd, (high - mean) / sd
        exact = stats.truncnorm.ppf(u[:1000], a, b, loc=mean, scale=sd)
        assert np.abs(draws[:1000] - exact).max() < 1e-4 * sd
        assert stats.kstest(draws, stats.truncnorm(a, b, loc=mean, scale=sd).cdf).pvalue > 1e-3


def test_packed_normals_draw_as_the_normals_themselves():
    rng = np.random.default_rng(3)
    mean, sd = rng.normal(size=(50, 3)), rng.exponential(size=(50, 3))
    low, high = mean - rng.exponential(size=(50, 3)), mean + rng.exponential(size=(50, 3))
    normals = TruncatedNormals.of(mean, sd, low, high)
    rows, u = rng.integers(0, 50, 1000), rng.random((1000, 3))
    gathered = TruncatedNormals.draw(normals.packed(), rows, u, np.arange(3))
    direct = TruncatedNormals.of(mean[rows], sd[rows], low[rows], high[rows]).invert(u)
    assert np.allclose(gathered, direct, atol=1e-5)
