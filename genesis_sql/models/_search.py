"""Fast ``np.searchsorted`` of many unsorted keys in sorted arrays, by guide tables.

Sampling looks up every row's uniform in a cumulative distribution (a forest's leaves, a leaf's
categories) and every latent score in a calibration's knots. ``np.searchsorted`` bisects for each key,
and with unsorted keys every bisection step is an unpredictable branch: about 80 ns a key in 2,049 knots
and 180 ns in 100,000 cumulative shares, the bulk of a forest's sampling time. A guide table (Chen and
Asau, 1974) splits the values' range into equal buckets and stores, per bucket, how many values lie below
it; a key starts there and steps over the few values left in its bucket. With two buckets per value (and
at least MIN_BUCKETS, for short arrays whose values crowd part of their range) a key takes about one
step; keys still stepping after a few (a crowded bucket) finish by bisection, so the answer is always
exactly ``np.searchsorted``'s. The search is a compiled loop (genesis_sql.models._kernels).

Several arrays (one per latent dimension) share one table, so that a block of keys for all of them is
searched in one call.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from genesis_sql.models._kernels import guided_search

# Steps from a key's guide entry before it falls back to bisection.
_STEPS = 4
# Guide entries an array gets at least (32 KB): a few cost nothing, and short arrays are often uneven.
MIN_BUCKETS = 4096


class GuideTable:
    """``np.searchsorted(arrays[k], keys[k], side)`` for every row ``k`` of a key block, fast for unsorted keys.

    The arrays are laid out one after another, each followed by one spare slot, so array ``k``'s index
    ``i`` (0 to its size, both included) has the position ``offsets[k] + i`` in that layout.

    Args:
        arrays: sorted float arrays (any sizes, ties allowed).
        side: as for ``np.searchsorted``: ``"left"`` counts the values below a key, ``"right"`` those at or
            below it.
        buckets_per_value: guide entries per value; more means fewer steps and more memory.

    Example:
        >>> table = GuideTable([np.array([0.1, 0.5, 0.5, 0.9]), np.array([2.0])], side="right")
        >>> table.search(np.array([[0.5, 0.95, 0.0], [1.0, 2.0, 3.0]]))
        array([[3, 4, 0],
               [0, 1, 1]])
    """

    def __init__(self, arrays: Sequence[np.ndarray], *, side: Literal["left", "right"],
                 buckets_per_value: float = 2.0) -> None:
        self.arrays = [np.asarray(values, dtype=np.float64) for values in arrays]
        self.side = side
        self._sizes = np.array([values.size for values in self.arrays], dtype=np.intp)
        self.offsets = np.r_[0, np.cumsum(self._sizes + 1)[:-1]].astype(np.intp)
        # The spare slot after each array holds NaN, which stops every step there (NaN compares false).
        self._padded = np.concatenate([np.r_[values, np.nan] for values in self.arrays])
        guides, lows, scales = [], [], []
        for values, offset in zip(self.arrays, self.offsets):
            buckets = max(MIN_BUCKETS, int(buckets_per_value * values.size))
            low, high = (float(values[0]), float(values[-1])) if values.size else (0.0, 0.0)
            span = high - low
            scale = buckets / span if np.isfinite(span) and span > 0 else 0.0
            edges = low + np.arange(buckets) * (span / buckets) if scale else np.array([low])
            # A key in bucket b lies at or above edge b up to rounding; the margin keeps every bucket's
            # start at or below the answer of each of its keys.
            margin = 1e-9 * (abs(low) + abs(high) + span) if np.isfinite(span) else 0.0
            guides.append(offset + np.searchsorted(values, edges - margin, side="left"))
            lows.append(low)
            scales.append(scale)
        self._guide = np.concatenate(guides).astype(np.intp)
        self._guide_offsets = np.r_[0, np.cumsum([g.size for g in guides])[:-1]].astype(np.intp)
        self._last_bucket = np.array([g.size - 1 for g in guides], dtype=np.float64)
        self._low = np.array(lows, dtype=np.float64)
        self._scale = np.array(scales, dtype=np.float64)

    @property
    def kernel_arguments(self) -> tuple[np.ndarray, ...]:
        """The table as the compiled searches of genesis_sql.models._kernels take it (its step count last)."""
        return (self._low, self._scale, self._last_bucket, self._guide_offsets, self._guide, self._padded,
                self.offsets, self._sizes, _STEPS)

    def search(self, keys: np.ndarray) -> np.ndarray:
        """The insertion index of each key in its row's array (keys: arrays x n), as ``np.searchsorted``."""
        return self.locate(keys) - self.offsets[:, None]

    def locate(self, keys: np.ndarray) -> np.ndarray:
        """Like :meth:`search`, as positions in the arrays' joint layout (``offsets[k]`` + the index)."""
        keys = np.ascontiguousarray(keys, dtype=np.float64)
        index = np.empty(keys.shape, dtype=np.intp)
        if guided_search(keys, *self.kernel_arguments, self.side == "left", index):
            for k, values in enumerate(self.arrays):
                missing = np.isnan(keys[k])
                if missing.any():
                    index[k, missing] = self.offsets[k] + np.searchsorted(values, keys[k, missing], side=self.side)
        return index
