"""Fast ``np.searchsorted`` of many unsorted keys in sorted arrays, by guide tables.

Sampling looks up every row's uniform in a cumulative distribution (a forest's leaves, a leaf's
categories) and every latent score in a calibration's knots. ``np.searchsorted`` bisects for each key,
and with unsorted keys every bisection step is an unpredictable branch: about 80 ns a key in 2,049 knots
and 180 ns in 100,000 cumulative shares, the bulk of a forest's sampling time. A guide table (Chen and
Asau, 1974) splits the values' range into equal buckets and stores, per bucket, how many values lie below
it; a key starts there and steps over the few values left in its bucket. With two buckets per value (and
at least MIN_BUCKETS, for short arrays whose values crowd part of their range) a key takes about one step; keys still stepping after a few rounds (a crowded bucket) finish with
``np.searchsorted``, so the answer is always exactly ``np.searchsorted``'s.

Several arrays (one per latent dimension) share one table, so that a block of keys for all of them is
searched in one pass of vectorised steps rather than one pass per array.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

# Vectorised steps before the keys left over fall back to bisection.
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
        self._before = np.less if side == "left" else np.less_equal
        sizes = np.array([values.size + 1 for values in self.arrays], dtype=np.intp)
        self.offsets = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.intp)
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
        self._guide = np.concatenate(guides)
        self._guide_offsets = np.r_[0, np.cumsum([g.size for g in guides])[:-1]].astype(np.intp)[:, None]
        self._last_bucket = np.array([g.size - 1 for g in guides], dtype=np.float64)[:, None]
        self._low = np.array(lows)[:, None]
        self._scale = np.array(scales)[:, None]

    def search(self, keys: np.ndarray) -> np.ndarray:
        """The insertion index of each key in its row's array (keys: arrays x n), as ``np.searchsorted``."""
        return self.locate(keys) - self.offsets[:, None]

    def locate(self, keys: np.ndarray) -> np.ndarray:
        """Like :meth:`search`, as positions in the arrays' joint layout (``offsets[k]`` + the index)."""
        keys = np.asarray(keys, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # an infinite key on a single-valued array: NaN, handled below
            position = (keys - self._low) * self._scale
        np.clip(position, 0.0, self._last_bucket, out=position)
        odd = np.isnan(position)  # NaN keys, or infinite ones on a single-valued array
        any_odd = bool(odd.any())
        if any_odd:
            position[odd] = 0.0
        bucket = position.astype(np.intp)
        bucket += self._guide_offsets
        index = self._guide[bucket].ravel()
        flat = keys.ravel()
        pending = np.flatnonzero(self._before(self._padded[index], flat))
        for _ in range(_STEPS):
            if not pending.size:
                break
            index[pending] += 1
            pending = pending[self._before(self._padded[index[pending]], flat[pending])]
        index = index.reshape(keys.shape)
        if pending.size or any_odd:
            bisect = odd.copy()
            bisect.ravel()[pending] = True
            for k, values in enumerate(self.arrays):
                if bisect[k].any():
                    index[k, bisect[k]] = self.offsets[k] + np.searchsorted(values, keys[k, bisect[k]],
                                                                            side=self.side)
        return index
