"""Column pair trends: whether relationships between two columns survive synthesis.

Definitions follow SDMetrics' ``ColumnPairTrends`` property of its quality report:

- two continuous columns: ``CorrelationSimilarity``, ``1 - |r_real - r_synthetic| / 2`` with Pearson's
  r over the rows where both are non-NULL; undefined when a column is constant on a side;
- otherwise ``ContingencySimilarity``, ``1 - 1/2 * sum |p_real(a, b) - p_synthetic(a, b)|`` over the
  joint frequencies, where NULL is a category of its own and a continuous column is first cut into
  10 equal-width bins *of its own side's range* (as SDMetrics' report does; see :func:`discretize`).

SDMetrics' report averages only the pairs that are related in the real data: Pearson |r| above
:data:`REAL_CORRELATION_THRESHOLD`, or Cramér's V above :data:`REAL_ASSOCIATION_THRESHOLD`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats.contingency import association

# SDMetrics' QualityReport defaults (sdmetrics.reports.utils).
REAL_CORRELATION_THRESHOLD = 0.5
REAL_ASSOCIATION_THRESHOLD = 0.3
BINS = 10
# Joint frequencies are counted with bincount up to this many possible cells, by sorting beyond.
DENSE_CELLS = 1_000_000


@dataclass(frozen=True)
class PairScore:
    """The score of one column pair and the real and synthetic strength of the relationship.

    Attributes:
        score: The similarity in [0, 1]; NaN when undefined.
        real: Pearson's r (continuous pair) or Cramér's V (other pairs) on the real rows.
        synthetic: The same statistic on the synthetic rows.
        meets_threshold: Whether the real relationship is strong enough to count in the average.
    """

    score: float
    real: float
    synthetic: float
    meets_threshold: bool


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _is_constant(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return present.size > 0 and np.ptp(present) == 0


def correlation_similarity(real_x: np.ndarray, real_y: np.ndarray,
                           synthetic_x: np.ndarray, synthetic_y: np.ndarray) -> PairScore:
    """Compare Pearson's correlation of two continuous columns (NaN for NULL) on both sides.

    Example:
        >>> x = np.arange(10.0)
        >>> round(correlation_similarity(x, x, x, -x).score, 6)
        0.0
    """
    if any(_is_constant(v) for v in (real_x, real_y, synthetic_x, synthetic_y)):
        nan = float("nan")
        return PairScore(nan, nan, nan, False)
    real, synthetic = _pearson(real_x, real_y), _pearson(synthetic_x, synthetic_y)
    score = 1.0 - abs(real - synthetic) / 2.0
    return PairScore(float(score), real, synthetic, bool(abs(real) > REAL_CORRELATION_THRESHOLD))


def discretize(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Cut continuous values into ``bins`` equal-width bins of their own range, as codes (-1 for NULL).

    Like SDMetrics' report, the edges come from ``np.histogram_bin_edges`` over the non-NULL values and
    codes from ``np.digitize``, so the maximum lands in a bin of its own (code ``bins + 1``). SDMetrics
    lets NULL fall into that same top bin; here NULL keeps a code of its own, the way NULL is a
    category of its own for discrete columns.

    Example:
        >>> discretize(np.array([0.0, 0.5, 1.0, np.nan]), bins=2).tolist()
        [1, 2, 3, -1]
    """
    present = ~np.isnan(values)
    codes = np.full(values.shape, -1, dtype=np.int64)
    if present.any():
        edges = np.histogram_bin_edges(values[present], bins=bins)
        codes[present] = np.digitize(values[present], edges)
    return codes


def _joint(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    return (a + 1) * width + (b + 1)


def _counts(joint: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct joint codes (sorted) and their counts; by bincount when the code space is small."""
    if cells <= DENSE_CELLS:
        counts = np.bincount(joint, minlength=cells)
        keys = np.flatnonzero(counts)
        return keys, counts[keys]
    return np.unique(joint, return_counts=True)


def _cramers_v(keys: np.ndarray, counts: np.ndarray, width: int) -> float:
    rows, row_index = np.unique(keys // width, return_inverse=True)
    cols, col_index = np.unique(keys % width, return_inverse=True)
    if min(rows.size, cols.size) < 2:
        return float("nan")
    table = np.zeros((rows.size, cols.size), dtype=np.int64)
    table[row_index, col_index] = counts
    return float(association(table, method="cramer"))


def contingency_similarity(real_a: np.ndarray, real_b: np.ndarray,
                           synthetic_a: np.ndarray, synthetic_b: np.ndarray) -> PairScore:
    """Compare the joint frequencies of two discrete (or discretized) columns, codes with -1 for NULL.

    Example:
        >>> a = np.array([0, 0, 1, 1]); b = np.array([0, 1, 0, 1])
        >>> contingency_similarity(a, b, a, b).score
        1.0
    """
    if real_a.size == 0 or synthetic_a.size == 0:
        nan = float("nan")
        return PairScore(nan, nan, nan, False)
    width = int(max(real_b.max(), synthetic_b.max())) + 2
    cells = (int(max(real_a.max(), synthetic_a.max())) + 2) * width
    keys_real, counts_real = _counts(_joint(real_a, real_b, width), cells)
    keys_synthetic, counts_synthetic = _counts(_joint(synthetic_a, synthetic_b, width), cells)
    keys = np.union1d(keys_real, keys_synthetic)
    p = np.zeros(keys.size)
    q = np.zeros(keys.size)
    p[np.searchsorted(keys, keys_real)] = counts_real / real_a.size
    q[np.searchsorted(keys, keys_synthetic)] = counts_synthetic / synthetic_a.size
    real_v = _cramers_v(keys_real, counts_real, width)
    synthetic_v = _cramers_v(keys_synthetic, counts_synthetic, width)
    if np.isnan(real_v):
        # SDMetrics leaves a pair out when the real contingency table has a single row or column.
        return PairScore(float("nan"), real_v, synthetic_v, False)
    score = 1.0 - 0.5 * np.abs(p - q).sum()
    return PairScore(float(score), real_v, synthetic_v, bool(real_v > REAL_ASSOCIATION_THRESHOLD))
