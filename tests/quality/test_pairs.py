"""Correlation and contingency similarity, and SDMetrics' binning and thresholds."""
from __future__ import annotations

import math

import numpy as np
import pytest

from genesis_sql.quality.pairs import (
    REAL_ASSOCIATION_THRESHOLD,
    contingency_similarity,
    correlation_similarity,
    discretize,
)


def test_correlation_similarity_by_hand():
    x = np.arange(100.0)
    same = correlation_similarity(x, 2 * x, x, 3 * x + 1)
    assert same.score == pytest.approx(1.0) and same.real == pytest.approx(1.0) and same.meets_threshold
    opposite = correlation_similarity(x, x, x, -x)
    assert opposite.score == pytest.approx(0.0) and opposite.synthetic == pytest.approx(-1.0)


def test_correlation_uses_rows_where_both_are_present():
    x = np.array([1.0, 2, 3, np.nan, 4])
    y = np.array([2.0, 4, 6, 100, np.nan])
    assert correlation_similarity(x, y, x, y).real == pytest.approx(1.0)


def test_constant_column_makes_correlation_undefined():
    x = np.arange(10.0)
    result = correlation_similarity(x, np.ones(10), x, x)
    assert math.isnan(result.score) and not result.meets_threshold


def test_weak_real_correlation_does_not_count():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=2000), rng.normal(size=2000)
    assert not correlation_similarity(x, y, x, y).meets_threshold


def test_discretize_uses_its_own_range_and_keeps_nulls_apart():
    # Edges 0, 0.5, 1: 0 -> bin 1, 0.5 -> bin 2, the maximum -> bin 3 (np.digitize), NULL -> -1.
    assert discretize(np.array([0.0, 0.5, 1.0, np.nan]), bins=2).tolist() == [1, 2, 3, -1]
    assert discretize(np.array([np.nan, np.nan])).tolist() == [-1, -1]
    # Each side is binned on its own range, as SDMetrics' report does: a shifted copy gets the same codes.
    values = np.linspace(0, 1, 50)
    assert discretize(values).tolist() == discretize(values + 10).tolist()


def test_contingency_of_disjoint_categories_is_zero():
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    result = contingency_similarity(a, a, b + 2, b + 2)
    assert result.score == 0.0


def test_contingency_by_hand_with_null_as_a_category():
    a = np.array([0, 0, 1, 1])
    b = np.array([0, 0, 1, 1])
    # Synthetic moves one of four rows from (1, 1) to (1, NULL): TV distance 1/4.
    result = contingency_similarity(a, b, a, np.array([0, 0, 1, -1]))
    assert result.score == pytest.approx(0.75)
    assert result.real == pytest.approx(1.0) and result.real > REAL_ASSOCIATION_THRESHOLD and result.meets_threshold


def test_contingency_is_undefined_for_a_single_real_category():
    result = contingency_similarity(np.zeros(4, dtype=np.int64), np.array([0, 1, 0, 1]),
                                    np.array([0, 1, 1, 1]), np.array([0, 1, 0, 1]))
    assert math.isnan(result.score) and not result.meets_threshold
