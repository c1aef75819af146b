"""Column shapes: how well each synthetic column's distribution matches the real one.

Definitions follow SDMetrics' ``KSComplement`` (continuous columns) and ``TVComplement`` (discrete
columns): NULLs are dropped on both sides first, and a side with no value left makes the score
undefined (NaN).
"""
from __future__ import annotations

import numpy as np

# SDMetrics rounds to the float precision minus one digit before the KS test, so that values that
# differ only by float noise count as equal.
_DECIMALS = np.finfo(np.float64).precision - 1


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """One minus the two-sample Kolmogorov-Smirnov statistic of two continuous columns.

    Args:
        real: Real values, NaN for NULL.
        synthetic: Synthetic values, NaN for NULL.

    Returns:
        ``1 - max |F_real(x) - F_synthetic(x)|`` over all x; NaN when a side has no value.

    Example:
        >>> ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6]))
        0.5
    """
    a = np.sort(np.round(real[~np.isnan(real)], _DECIMALS))
    b = np.sort(np.round(synthetic[~np.isnan(synthetic)], _DECIMALS))
    if a.size == 0 or b.size == 0:
        return float("nan")
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def tv_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """One minus the total variation distance between two discrete columns' frequencies.

    Args:
        real: Real category codes, -1 for NULL.
        synthetic: Synthetic category codes (same coding), -1 for NULL.

    Returns:
        ``1 - 1/2 * sum_c |p_real(c) - p_synthetic(c)|`` over every category of either side; NaN
        when a side has no value.

    Example:
        >>> tv_complement(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
        0.75
    """
    a, b = real[real >= 0], synthetic[synthetic >= 0]
    if a.size == 0 or b.size == 0:
        return float("nan")
    size = int(max(a.max(), b.max())) + 1
    p = np.bincount(a, minlength=size) / a.size
    q = np.bincount(b, minlength=size) / b.size
    return float(1.0 - 0.5 * np.abs(p - q).sum())
