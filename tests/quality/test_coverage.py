"""Missing-value similarity, range coverage and category coverage by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from genesis_sql.quality.coverage import category_coverage, missing_value_similarity, range_coverage


def test_missing_value_similarity():
    assert missing_value_similarity(np.array([True, False, False, False]), np.array([True, False, False, False])) == 1.0
    assert missing_value_similarity(np.array([True, True]), np.array([False, False])) == 0.0
    assert missing_value_similarity(np.array([True, False]), np.array([False, False])) == 0.5


def test_range_coverage():
    real = np.array([0.0, 5, 10])
    assert range_coverage(real, np.array([0.0, 10])) == 1.0
    assert range_coverage(real, np.array([2.0, 7, np.nan])) == pytest.approx(0.5)
    assert range_coverage(real, np.array([20.0, 30])) == 0.0
    assert math.isnan(range_coverage(np.array([3.0, 3.0]), np.array([1.0])))


def test_category_coverage():
    assert category_coverage(np.array([0, 1, 2, 2, -1]), np.array([0, 1, 2])) == 1.0
    assert category_coverage(np.array([0, 1]), np.array([2, 3])) == 0.0
    assert category_coverage(np.array([0, 1, 2, 3]), np.array([1, 1, -1])) == 0.25
    assert math.isnan(category_coverage(np.array([-1]), np.array([0])))
