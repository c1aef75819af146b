"""KS and TV complements on cases computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from genesis_sql.quality.shapes import ks_complement, tv_complement


def test_identical_columns_score_one():
    values = np.random.default_rng(0).normal(size=1000)
    assert ks_complement(values, values.copy()) == 1.0
    codes = np.array([0, 1, 1, 2, -1])
    assert tv_complement(codes, codes.copy()) == 1.0


def test_ks_complement_of_a_small_shift_by_hand():
    # F_real and F_synthetic differ most on [3, 4): 1.0 vs 0.5 at x = 4 -> D = 0.5.
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == 0.5


def test_ks_complement_of_a_shifted_normal():
    # N(0, 1) against N(0.5, 1): the CDFs differ most at x = 0.25, by 2 * Phi(0.25) - 1.
    rng = np.random.default_rng(1)
    real, synthetic = rng.normal(0, 1, 200_000), rng.normal(0.5, 1, 200_000)
    expected = 1 - (2 * norm.cdf(0.25) - 1)
    assert expected == pytest.approx(0.8026, abs=1e-4)
    assert ks_complement(real, synthetic) == pytest.approx(expected, abs=0.01)


def test_ks_complement_ignores_nulls_and_is_undefined_without_values():
    assert ks_complement(np.array([1.0, np.nan, 2]), np.array([1.0, 2, np.nan, np.nan])) == 1.0
    assert math.isnan(ks_complement(np.array([np.nan]), np.array([1.0])))


def test_tv_complement_of_disjoint_categories_is_zero():
    assert tv_complement(np.array([0, 0, 1]), np.array([2, 3, 3])) == 0.0


def test_tv_complement_by_hand_with_nulls_dropped():
    # real: a 1/2, b 1/2 ; synthetic (NULL dropped): a 1/4, b 3/4 -> TV = 1/4.
    assert tv_complement(np.array([0, 1, -1]), np.array([0, 1, 1, 1, -1])) == 0.75
    assert math.isnan(tv_complement(np.array([-1, -1]), np.array([0])))
