"""Monotone maps that give a model's latent samples exactly standard-normal marginals.

A flexible model (a forest's leaf mixture, a neural decoder) gets the dependence between columns right
but each column's own distribution only approximately, with tails that are usually too thin. Mapping
every latent dimension through its own quantile function (estimated once, from a large seeded sample
of the model) makes its marginal standard normal again, so decoding through the column's codec returns
the training marginal, tails and extremes included, while the ranks, hence the dependence, stay the
model's.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.special import ndtr, ndtri

from genesis_sql.models._kernels import knot_map
from genesis_sql.models._search import GuideTable

# Probability levels of the quantile knots, spaced evenly in normal space.
KNOTS = 2049
# Rows of the seeded sample that estimates the quantiles: eight per training row (so that the extremes
# of the training data are reached), within these bounds.
MIN_SAMPLE_ROWS, MAX_SAMPLE_ROWS = 1 << 14, 1 << 17
_REACH = float(-ndtri(1.0 / MAX_SAMPLE_ROWS))
_NORMALS = np.linspace(-_REACH, _REACH, KNOTS)
_LEVELS = ndtr(_NORMALS)


def sorted_quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles at ``levels`` of ``ordered`` (sorted along its first axis) by ``np.quantile``'s linear rule.

    ``np.quantile`` partitions the data once per level, which for thousands of levels costs far more than
    the one sort the caller already did.
    """
    position = levels * (ordered.shape[0] - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, ordered.shape[0] - 1)
    fraction = (position - below).reshape((-1,) + (1,) * (ordered.ndim - 1))
    return ordered[below] + fraction * (ordered[above] - ordered[below])


def sample_rows(training_rows: int) -> int:
    """How many rows of a model to sample for calibrating a model fitted on ``training_rows`` rows."""
    return int(np.clip(8 * training_rows, MIN_SAMPLE_ROWS, MAX_SAMPLE_ROWS))


class Calibration:
    """Per-dimension quantile knots of a model's samples (KNOTS x dims), and the map they define."""

    def __init__(self, knots: np.ndarray) -> None:
        self.knots = knots

    @classmethod
    def fit(cls, samples: np.ndarray) -> Calibration:
        """Knots from a sample of the model's latent scores (rows x dims)."""
        if samples.shape[1] == 0:
            return cls(np.zeros((KNOTS, 0)))
        return cls(sorted_quantiles(np.sort(samples, axis=0), _LEVELS))

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Scores ``z`` (rows x dims) mapped to the normal scale; a point mass (tied knots) maps to the middle
        of its probability."""
        if z.shape[1] == 0:
            return np.empty_like(z)
        return self._map.apply(z)

    @cached_property
    def _map(self) -> _KnotMap:
        """The map of every dimension, derived from the knots on first use."""
        return _KnotMap(self.knots)

    def invert(self, t: np.ndarray, k: int) -> np.ndarray:
        """Scores of dimension ``k`` that :meth:`apply` maps to ``t`` (infinite beyond the knots' reach)."""
        raw = np.interp(t, _NORMALS, self.knots[:, k])
        return np.where(t < -_REACH, -np.inf, np.where(t > _REACH, np.inf, raw))


class _KnotMap:
    """The map from scores to the normal scale, for all dimensions at once, with everything that depends
    only on the knots computed once: mapping a block of scores is one compiled pass (a guided search and a
    few lookups per score).

    Scores interpolate linearly between the normals of the knots around them, and scores beyond the knots
    map to the outermost normals. A score equal to a value that several knots hold (a point mass) maps to
    the normal of the middle of their levels.

    Segment i of a dimension holds the scores from its distinct knot value i - 1 up to value i (segment 0
    those below the first, the last those from the last value up); segments are laid out as the guide
    table lays out its arrays (a dimension's m values, then one spare slot), so a score's position in that
    layout is its segment's.
    """

    def __init__(self, knots: np.ndarray) -> None:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in ("intercept", "slope", "mass", "normal")}
        distinct = []
        for column in knots.T:
            values, first, count = np.unique(column, return_index=True, return_counts=True)
            # A segment's knot interval ends at the first knot of its upper value (the outermost intervals
            # beyond the knots, where the map is flat).
            inner = np.clip(np.r_[first, KNOTS], 1, KNOTS - 1)
            low, high = column[inner - 1], column[inner]
            width = np.where(high > low, high - low, 1.0)
            slope = np.where(high > low, (_NORMALS[inner] - _NORMALS[inner - 1]) / width, 0.0)
            slope[[0, -1]] = 0.0
            start = _NORMALS[inner - 1]
            start[-1] = _NORMALS[-1]
            # Point masses, by the segment that starts at them (NaN where none does).
            mass = np.r_[np.nan, np.where(count > 1, values, np.nan)]
            normal = np.r_[0.0, ndtri((_LEVELS[first] + _LEVELS[first + count - 1]) / 2.0)]
            for name, part in zip(parts, (start - slope * low, slope, mass, normal)):
                parts[name].append(part)
            distinct.append(values)
        self._search = GuideTable(distinct, side="right")
        self._intercept, self._slope, self._mass, self._normal = (np.concatenate(parts[name]) for name in parts)
        self._floor = np.array([values[0] for values in distinct])
        self._ceiling = np.array([values[-1] for values in distinct])

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """The normal-scale scores of ``scores`` (rows x dims), in one compiled pass. Scores beyond the knots
        are clipped to them, so that infinite ones map to the outermost normals too."""
        out = np.empty(scores.shape)
        knot_map(np.ascontiguousarray(scores, dtype=np.float64), *self._search.kernel_arguments, self._floor,
                 self._ceiling, self._slope, self._intercept, self._mass, self._normal, out)
        return out
