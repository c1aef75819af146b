"""Coverage and missing values: does the synthetic column span what the real one spans, NULLs included.

Definitions follow SDMetrics' ``MissingValueSimilarity``, ``RangeCoverage`` and ``CategoryCoverage``.
"""
from __future__ import annotations

import numpy as np


def missing_value_similarity(real_null: np.ndarray, synthetic_null: np.ndarray) -> float:
    """One minus the difference between the real and synthetic NULL rates.

    Args:
        real_null: Boolean mask of the real NULLs.
        synthetic_null: Boolean mask of the synthetic NULLs.

    Example:
        >>> missing_value_similarity(np.array([True, False]), np.array([False, False]))
        0.5
    """
    if real_null.size == 0 or synthetic_null.size == 0:
        return float("nan")
    return float(1.0 - abs(real_null.mean() - synthetic_null.mean()))


def range_coverage(real: np.ndarray, synthetic: np.ndarray) -> float:
    """The share of the real [min, max] range that the synthetic values reach (NaN for NULL).

    Returns:
        ``max(0, 1 - (max(0, syn_min - min) + max(0, max - syn_max)) / (max - min))``; NaN when the real
        column is constant or either side has no value.

    Example:
        >>> range_coverage(np.array([0.0, 10.0]), np.array([2.0, 10.0]))
        0.8
    """
    a, b = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if a.size == 0 or b.size == 0 or a.min() == a.max():
        return float("nan")
    span = a.max() - a.min()
    low = max((b.min() - a.min()) / span, 0.0)
    high = max((a.max() - b.max()) / span, 0.0)
    return float(max(1.0 - (low + high), 0.0))


def category_coverage(real: np.ndarray, synthetic: np.ndarray) -> float:
    """The share of the real categories (codes, -1 for NULL) that appear in the synthetic column.

    Example:
        >>> category_coverage(np.array([0, 1, 2, 2]), np.array([0, 0, 1, -1]))
        0.6666666666666666
    """
    seen = np.unique(real[real >= 0])
    if seen.size == 0:
        return float("nan")
    return float(np.isin(seen, synthetic).mean())
