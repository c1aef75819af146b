"""How ``method="auto"`` chooses between candidate synthesizers: each is fitted, samples rows, and the one
whose rows look most like the training rows wins.

Neither the forest nor the copula wins everywhere. The forest keeps nonlinear and interaction structure
the copula cannot; on a few hundred rows with many strong linear correlations (statsmodels' star98: 22
correlated columns) its leaves are too few to rebuild them and the copula is far closer. Which one a table
needs is not visible in its size or types, so on tables small enough for both to fit in well under a
second the choice is measured.

The measure follows SDMetrics' quality report, what users compare synthesizers by: the mean of each
column's shape similarity (1 - Kolmogorov-Smirnov statistic for numbers and dates, 1 - total variation
distance for categories) and of the trend similarity of the pairs that depend on each other in the
training rows (two numbers correlated beyond 0.5: their correlations compared; a pair with a category
associated beyond Cramér's V 0.3: its joint distribution compared, numbers binned into ten equal-width
bins between each table's own minimum and maximum). Pairs without dependence say little about a model and
are left out, as the report leaves them out.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec

# Rows sampled from each candidate, and training rows compared with them.
COMPARED_ROWS = 5_000
# The key of the candidates' sample rows: a constant, so that the choice is a function of the fit's seed.
_SELECTION_KEY = 0x5E1EC7
_BINS = 10
# The dependence a pair needs in the training rows to be compared (SDMetrics' report thresholds).
_CORRELATION_THRESHOLD, _ASSOCIATION_THRESHOLD = 0.5, 0.3
_NUMERICAL = ("numeric", "integer", "datetime")
_CATEGORICAL = ("categorical", "boolean")


def choose_best(candidates: list[BaseSynthesizer], table: pa.Table, columns: list[ColumnSpec]
                ) -> tuple[BaseSynthesizer, list[float]]:
    """The fitted candidate whose sample is most similar to ``table`` (the first on a tie), and every
    candidate's similarity."""
    rows = min(table.num_rows, COMPARED_ROWS)
    real = table.take(pa.array(np.linspace(0, table.num_rows - 1, rows).astype(np.int64)))
    scores = [similarity(real, model.sample_rows(np.arange(rows), key=_SELECTION_KEY), columns)
              for model in candidates]
    return candidates[int(np.argmax(scores))], scores


def similarity(real: pa.Table, synth: pa.Table, columns: list[ColumnSpec]) -> float:
    """How alike two tables of the same columns are, from 0 to 1: the mean of the column shapes' and the
    column pairs' similarities (identifier and free-text columns are left out)."""
    kept = [c for c in columns if c.kind in _NUMERICAL + _CATEGORICAL]
    if not kept:
        return 1.0
    values = {c.name: (_prepared(real.column(c.name), c), _prepared(synth.column(c.name), c)) for c in kept}
    codes = {c.name: _codes(*values[c.name], c) for c in kept}
    shapes = [_total_variation_similarity(*codes[c.name]) if c.kind in _CATEGORICAL
              else _ks_similarity(*values[c.name]) for c in kept]
    pairs = []
    for a, b in combinations(kept, 2):
        if a.kind in _NUMERICAL and b.kind in _NUMERICAL:
            (real_a, synth_a), (real_b, synth_b) = values[a.name], values[b.name]
            real_correlation = _correlation(real_a, real_b)
            if abs(real_correlation) > _CORRELATION_THRESHOLD:
                pairs.append(1.0 - abs(real_correlation - _correlation(synth_a, synth_b)) / 2)
            continue
        (real_a, synth_a, count_a), (real_b, synth_b, count_b) = codes[a.name], codes[b.name]
        if _cramers_v(real_a, real_b, count_a, count_b) > _ASSOCIATION_THRESHOLD:
            pairs.append(_total_variation_similarity(real_a * count_b + real_b, synth_a * count_b + synth_b,
                                                     count_a * count_b))
    return float(np.mean(shapes) / 2 + (np.mean(pairs) if pairs else np.mean(shapes)) / 2)


def _cramers_v(a: np.ndarray, b: np.ndarray, count_a: int, count_b: int) -> float:
    """Cramér's V of two code columns (0 when either has a single value)."""
    table = np.bincount(a * count_b + b, minlength=count_a * count_b).reshape(count_a, count_b).astype(float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def _prepared(values: pa.ChunkedArray, column: ColumnSpec) -> np.ndarray:
    """Numbers as float64 (NaN for NULL), dates and times as their counts of days or microseconds;
    categories as text (NULL as its own value)."""
    if column.kind in _CATEGORICAL:
        return np.asarray(pc.cast(values, pa.string()).fill_null("\0null").to_numpy(zero_copy_only=False))
    if pa.types.is_date32(values.type):
        values = pc.cast(values, pa.int32())
    elif pa.types.is_temporal(values.type):
        values = pc.cast(values, pa.int64())
    return np.asarray(pc.cast(values, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=float)


def _codes(real: np.ndarray, synth: np.ndarray, column: ColumnSpec) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of both tables' values and how many codes there are: categories by value, numbers by
    one of ten equal-width bins of their own table's range (NULL apart)."""
    if column.kind in _CATEGORICAL:
        categories, codes = np.unique(np.concatenate([real, synth]), return_inverse=True)
        return codes[:real.size], codes[real.size:], max(categories.size, 1)
    return _binned(real), _binned(synth), _BINS + 1


def _binned(values: np.ndarray) -> np.ndarray:
    finite = values[~np.isnan(values)]
    if not finite.size:
        return np.full(values.size, _BINS)
    edges = np.linspace(finite.min(), finite.max(), _BINS + 1)[1:-1]
    return np.where(np.isnan(values), _BINS, np.digitize(values, edges))


def _ks_similarity(real: np.ndarray, synth: np.ndarray) -> float:
    """1 - the Kolmogorov-Smirnov statistic of the non-NULL values."""
    real, synth = np.sort(real[~np.isnan(real)]), np.sort(synth[~np.isnan(synth)])
    if not real.size or not synth.size:
        return float(real.size == synth.size)
    points = np.concatenate([real, synth])
    gap = (np.searchsorted(real, points, side="right") / real.size
           - np.searchsorted(synth, points, side="right") / synth.size)
    return 1.0 - float(np.abs(gap).max())


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    if x.size < 2 or x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def _total_variation_similarity(real: np.ndarray, synth: np.ndarray, count: int) -> float:
    """1 - half the L1 distance between the two tables' frequencies of integer codes below ``count``."""
    real_share = np.bincount(real, minlength=count) / max(real.size, 1)
    synth_share = np.bincount(synth, minlength=count) / max(synth.size, 1)
    return 1.0 - float(np.abs(real_share - synth_share).sum() / 2)
