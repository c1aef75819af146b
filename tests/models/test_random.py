"""Counter-based randomness: every number is a pure function of (key, row, attempt, position)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtri

from genesis_sql.models._random import derive_key, row_states, standard_normals, uniforms

KEY = derive_key("content-hash", 42, "")


def numbers(rows, dims: int = 4, key: int = KEY, **kwargs) -> np.ndarray:
    return uniforms(row_states(key, np.asarray(rows, dtype=np.int64)), dims, **kwargs)


def test_keys_are_64_bit_and_depend_on_every_part():
    keys = {derive_key("hash", seed, cond) for seed in (0, 1, 2) for cond in ("", "x > 1")}
    assert len(keys) == 6
    assert derive_key("hash", 1, "") == derive_key("hash", 1, "")
    assert all(0 <= k < 2**64 for k in keys)
    # parts are separated, so moving text from one part to the next changes the key
    assert derive_key("ab", "c") != derive_key("a", "bc")


def test_a_row_gets_the_same_numbers_in_any_batch_and_order():
    whole = numbers(np.arange(10_000))
    assert np.array_equal(np.vstack([numbers(np.arange(0, 4_321)), numbers(np.arange(4_321, 10_000))]), whole)
    picked = np.array([9_999, 0, 5_000, 5_000, 17])
    assert np.array_equal(numbers(picked), whole[picked])


def test_positions_attempts_and_keys_give_disjoint_numbers():
    rows = np.arange(2_000)
    six = numbers(rows, 6)
    assert np.array_equal(numbers(rows, 4, offset=2), six[:, 2:6])  # offsets address later positions
    retry = numbers(rows, 6, attempts=np.ones(rows.size, dtype=np.int64))
    assert np.array_equal(numbers(rows, 6, attempts=1), retry)
    other_key = numbers(rows, 6, key=derive_key("content-hash", 43, ""))
    for other in (retry, other_key):
        assert not np.isin(other, six).any()
        assert abs(np.corrcoef(other.ravel(), six.ravel())[0, 1]) < 0.05


def test_uniforms_are_uniform_and_independent():
    u = numbers(np.arange(50_000), 8)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    corr = np.corrcoef(u, rowvar=False)
    assert np.abs(corr[np.triu_indices(8, 1)]).max() < 0.02  # across positions of a row
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 0.02  # across neighbouring rows


def test_standard_normals_match_the_inverse_normal_cdf():
    u = np.concatenate([numbers(np.arange(20_000), 5).ravel(), [1e-300, 1e-9, 0.5, 1 - 1e-9]])
    z = standard_normals(u)
    exact = ndtri(u)
    assert np.abs(z - exact).max() < 2e-5
    tails = (u < 1 / 256) | (u > 1 - 1 / 256)
    assert np.array_equal(z[tails], exact[tails])  # the tails are computed exactly
    assert stats.kstest(z[:100_000], "norm").pvalue > 1e-3


@pytest.mark.parametrize("rows", [np.array([], dtype=np.int64), np.array([2**40, 2**62], dtype=np.int64)])
def test_empty_and_huge_row_indices(rows):
    u = numbers(rows, 3)
    assert u.shape == (rows.size, 3)
    assert ((u > 0) & (u < 1)).all()


def test_standard_normals_of_single_precision_uniforms():
    u = np.array([1 - 1 / 256 - 1e-9, 1 - 1 / 256, 0.5, 1 / 256], dtype=np.float32)
    assert np.abs(standard_normals(u) - ndtri(u.astype(np.float64))).max() < 2e-5
