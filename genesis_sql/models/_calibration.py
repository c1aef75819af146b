"""Monotone maps that give a model's latent samples exactly standard-normal marginals.

A flexible model (a forest's leaf mixture, a neural decoder) gets the dependence between columns right
but each column's own distribution only approximately, with tails that are usually too thin. Mapping
every latent dimension through its own quantile function (estimated once, from a large seeded sample
of the model) makes its marginal standard normal again, so decoding through the column's codec returns
the training marginal, tails and extremes included, while the ranks, hence the dependence, stay the
model's.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

# Probability levels of the quantile knots, spaced evenly in normal space.
KNOTS = 2049
# Rows of the seeded sample that estimates the quantiles: eight per training row (so that the extremes
# of the training data are reached), within these bounds.
MIN_SAMPLE_ROWS, MAX_SAMPLE_ROWS = 1 << 14, 1 << 17
_REACH = float(-ndtri(1.0 / MAX_SAMPLE_ROWS))
_NORMALS = np.linspace(-_REACH, _REACH, KNOTS)
_LEVELS = ndtr(_NORMALS)


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
        # np.quantile's linear rule, from one sort (it would partition once per level).
        ordered = np.sort(samples, axis=0)
        position = _LEVELS * (ordered.shape[0] - 1)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, ordered.shape[0] - 1)
        fraction = (position - below)[:, None]
        return cls(ordered[below] + fraction * (ordered[above] - ordered[below]))

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Scores ``z`` (rows x dims) mapped to the normal scale; a point mass (tied knots) maps to the middle
        of its probability."""
        out = np.empty_like(z)
        for k in range(z.shape[1]):
            knots, x = self.knots[:, k], z[:, k]
            left = np.searchsorted(knots, x, side="left")
            right = np.searchsorted(knots, x, side="right")
            inner = np.clip(left, 1, KNOTS - 1)
            low, high = knots[inner - 1], knots[inner]
            fraction = np.clip((x - low) / np.where(high > low, high - low, 1.0), 0.0, 1.0)
            between = _NORMALS[inner - 1] + fraction * (_NORMALS[inner] - _NORMALS[inner - 1])
            tied = ndtri((_LEVELS[np.minimum(left, KNOTS - 1)] + _LEVELS[np.maximum(right - 1, 0)]) / 2.0)
            out[:, k] = np.where(right > left, tied, between)
        return out

    def invert(self, t: np.ndarray, k: int) -> np.ndarray:
        """Scores of dimension ``k`` that :meth:`apply` maps to ``t`` (infinite beyond the knots' reach)."""
        raw = np.interp(t, _NORMALS, self.knots[:, k])
        return np.where(t < -_REACH, -np.inf, np.where(t > _REACH, np.inf, raw))
