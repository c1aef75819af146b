"""Compiled loops for the sampling hot paths, each one call that releases Python's interpreter lock.

Written with numpy, making a block of rows is some hundred array operations, each a pass over a few MB and
each a hand-over of the interpreter lock: two threads then wait on each other between operations and
compete for the cores' shared cache. Each kernel here does one such chain in one pass over the rows,
without temporaries, and without the lock (``nogil``), so DuckDB's threads make rows side by side.

Every kernel computes exactly what the numpy code it replaced computed, operation by operation in the same
order and precision (no fused multiply-adds: numba's default, strict floating point), so that output stays
bit-identical; tests/models/test_kernels.py checks each against its numpy definition. Kernels are compiled
on first use and cached beside this module (numba's on-disk cache), so a process pays the compilation once
per installation.
"""
from __future__ import annotations

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIT = 1.0 / 9007199254740992.0


@njit(inline="always")
def _finalise(x: np.uint64) -> np.uint64:
    """The SplitMix64 finaliser (Steele et al., 2014); uint64 arithmetic wraps, which is the point."""
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    return x ^ (x >> np.uint64(31))


@njit(nogil=True, cache=True)
def finalise_in_place(x: np.ndarray) -> None:
    """The finaliser of every value of ``x`` (flat uint64), in place."""
    for i in range(x.size):
        x[i] = _finalise(x[i])


@njit(nogil=True, cache=True)
def splitmix_states(rows: np.ndarray, key: np.uint64, out: np.ndarray) -> None:
    """``out[i]``: the origin of row ``rows[i]``'s stream, the finaliser of ``rows[i] * golden ratio ^ key``."""
    for i in range(rows.size):
        out[i] = _finalise((np.uint64(rows[i]) * GOLDEN) ^ key)


@njit(nogil=True, cache=True)
def splitmix_uniforms(states: np.ndarray, attempts: np.ndarray, first_position: int, per_attempt: int,
                      out: np.ndarray) -> None:
    """``out[i, d]``: the uniform at position ``first_position + d`` of try ``attempts[i]`` of row ``i``."""
    rows, dims = out.shape
    for i in range(rows):
        base = np.uint64(attempts[i]) * np.uint64(per_attempt)
        state = states[i]
        for d in range(dims):
            x = _finalise((base + np.uint64(first_position + d)) * GOLDEN + state)
            out[i, d] = (np.float64(x >> np.uint64(11)) + 0.5) * _UNIT


@njit(inline="always")
def _table_quantile(value: float, tail: float, scale: float, last: float, table: np.ndarray,
                    rise: np.ndarray) -> float:
    """The inverse normal CDF of ``value`` read from the table (grid from ``tail`` up, ``scale`` steps a unit,
    positions clipped to [0, ``last``]): the step's rise times the fraction past its left end, plus that end."""
    position = (value - tail) * scale
    if position < 0.0:
        position = 0.0
    elif position > last:
        position = last
    left = np.int64(position)
    return rise[left] * (position - left) + table[left]


@njit(nogil=True, cache=True)
def interpolate_normals(u: np.ndarray, tail: float, scale: float, last: float, table: np.ndarray,
                        rise: np.ndarray, out: np.ndarray, tails: np.ndarray) -> int:
    """The inverse normal CDF of ``u`` (flat) by the table, into ``out``; the flat indices of values in the
    tails (or NaN), where the table does not reach, go to ``tails`` and their count is returned."""
    count = 0
    upper = 1.0 - tail
    for i in range(u.size):
        value = u[i]
        if value < tail or value > upper or value != value:
            tails[count] = i
            count += 1
        else:
            out[i] = _table_quantile(value, tail, scale, last, table, rise)
    return count


@njit(nogil=True, cache=True)
def truncated_normal_draws(params: np.ndarray, which: np.ndarray, u: np.ndarray, u_columns: np.ndarray,
                           tail: float, scale: float, last: float, table: np.ndarray, rise: np.ndarray,
                           out: np.ndarray, tails: np.ndarray, tail_p: np.ndarray) -> int:
    """Draws of truncated normals by inversion (genesis_sql.models._forest.TruncatedNormals): ``out[i, c]`` from
    parameter row ``which[i]`` (``params`` rows x 6 x columns: mean, start, width, scale, floor, ceiling, in
    the table's precision, computed in double) and uniform ``u[i, u_columns[c]]``. Where the probability
    falls in the table's tails its flat index goes to ``tails`` and the probability to ``tail_p``, for the
    caller; their count is returned."""
    count = 0
    upper = 1.0 - tail
    rows, columns = out.shape
    for i in range(rows):
        row = which[i]
        for c in range(columns):
            p = np.float64(params[row, 2, c]) * u[i, u_columns[c]]
            p = p + np.float64(params[row, 1, c])
            if p < 1e-300:
                p = 1e-300
            elif p > 1.0:
                p = 1.0
            if p < tail or p > upper or p != p:
                tails[count] = i * columns + c
                tail_p[count] = p
                count += 1
                continue
            e = _table_quantile(p, tail, scale, last, table, rise) * np.float64(params[row, 3, c])
            e = e + np.float64(params[row, 0, c])
            floor = np.float64(params[row, 4, c])
            if e < floor or floor != floor:  # as np.maximum: NaN from either side
                e = floor
            ceiling = np.float64(params[row, 5, c])
            if e > ceiling or ceiling != ceiling:
                e = ceiling
            out[i, c] = e
    return count


@njit(inline="always")
def _before(value: float, key: float, left: bool) -> bool:
    """Whether ``value`` lies before ``key`` in a search: below it (side left) or at or below it (right)."""
    return value < key if left else value <= key


@njit(nogil=True, cache=True)
def guided_search(keys: np.ndarray, low: np.ndarray, scale: np.ndarray, last_bucket: np.ndarray,
                  guide_offsets: np.ndarray, guide: np.ndarray, padded: np.ndarray, offsets: np.ndarray,
                  sizes: np.ndarray, steps: int, left: bool, out: np.ndarray) -> int:
    """Each key's position (``offsets[k]`` + its ``np.searchsorted`` index in array ``k``) into ``out``
    (arrays x n), in a guide table (genesis_sql.models._search.GuideTable): from the key's bucket's guide
    entry a few steps, then bisection. NaN keys, ordered as numpy orders them, are left to the caller:
    ``out`` gets -1 there and the count of them is returned."""
    deferred = 0
    arrays, n = keys.shape
    # Rows outer: the callers' keys are row-major (one array) or a transposed rows x dims block.
    for i in range(n):
        for k in range(arrays):
            key = keys[k, i]
            if key != key:
                out[k, i] = -1
                deferred += 1
                continue
            position = (key - low[k]) * scale[k]
            if position != position:  # an infinite key on a single-valued array
                index = offsets[k]
            else:
                if position < 0.0:
                    position = 0.0
                elif position > last_bucket[k]:
                    position = last_bucket[k]
                index = guide[np.int64(position) + guide_offsets[k]]
            # Two steps without branches (most keys need at most one), so that the loop over keys runs
            # without mispredictions; the rare key still short of its answer goes on stepping, then bisects.
            index += _before(padded[index], key, left)
            index += _before(padded[index], key, left)
            taken = 2
            while taken < steps and _before(padded[index], key, left):
                index += 1
                taken += 1
            if taken == steps and _before(padded[index], key, left):
                high = offsets[k] + sizes[k]  # the spare slot, NaN, which no key lies after
                while index < high:
                    middle = (index + high) // 2
                    if _before(padded[middle], key, left):
                        index = middle + 1
                    else:
                        high = middle
            out[k, i] = index
    return deferred


@njit(nogil=True, cache=True)
def knot_map(scores: np.ndarray, low: np.ndarray, scale: np.ndarray, last_bucket: np.ndarray,
             guide_offsets: np.ndarray, guide: np.ndarray, padded: np.ndarray, offsets: np.ndarray,
             sizes: np.ndarray, steps: int, floor: np.ndarray, ceiling: np.ndarray, slope: np.ndarray,
             intercept: np.ndarray, mass: np.ndarray, normal: np.ndarray, out: np.ndarray) -> None:
    """A calibration's map (genesis_sql.models._calibration) of ``scores`` (rows x dims) into ``out``: each
    score's segment among its dimension's knot values (a guide table's right-side search), the score clipped
    to the knots, times the segment's slope plus its intercept; a score at a point mass maps to its normal."""
    rows, dims = scores.shape
    segments = np.empty((rows, dims), dtype=np.int64)
    guided_search(scores.T, low, scale, last_bucket, guide_offsets, guide, padded, offsets, sizes, steps, False,
                  segments.T)
    for i in range(rows):
        for k in range(dims):
            score = scores[i, k]
            if score != score:
                out[i, k] = score
                continue
            segment = segments[i, k]
            value = score
            if value < floor[k]:
                value = floor[k]
            elif value > ceiling[k]:
                value = ceiling[k]
            value = value * slope[segment]
            out[i, k] = value + intercept[segment]
            if mass[segment] == score:
                out[i, k] = normal[segment]


@njit(nogil=True, cache=True)
def decode_continuous(z: np.ndarray, dims: np.ndarray, limit: float, grid_scale: float, last_step: int,
                      grid: np.ndarray, rise: np.ndarray, offsets: np.ndarray, round_scale: np.ndarray,
                      null_below: np.ndarray, out: np.ndarray) -> None:
    """Values (columns x rows) of continuous columns from their scores ``z[:, dims[c]]`` through their
    normal-space grids (genesis_sql.models._decoder.BatchDecoder): the score clipped to +-``limit``, its grid
    position, the step's rise times the fraction past it plus its left end; rounded where ``round_scale``
    is a number (to a multiple of its inverse); NaN (NULL) below the column's ``null_below``."""
    columns = dims.size
    rows = z.shape[0]
    for i in range(rows):
        for c in range(columns):
            score = z[i, dims[c]]
            position = score
            if position < -limit:
                position = -limit
            elif position > limit:
                position = limit
            position = (position + limit) * grid_scale
            left = np.int64(position)
            if left > last_step:
                left = last_step
            index = left + offsets[c]
            value = rise[index] * (position - left) + grid[index]
            scale = round_scale[c]
            if scale == scale:
                value = np.rint(value * scale) / scale
            if score < null_below[c]:
                value = np.nan
            out[c, i] = value


@njit(nogil=True, cache=True)
def count_below(z: np.ndarray, dim: int, bounds: np.ndarray, out: np.ndarray) -> None:
    """``out[i]``: how many of ``bounds`` lie at or below ``z[i, dim]`` (a few bounds: faster than a search)."""
    for i in range(z.shape[0]):
        score = z[i, dim]
        count = 0
        for bound in bounds:
            count += score >= bound
        out[i] = count


@njit(nogil=True, cache=True)
def dense_category_codes(cumulative: np.ndarray, leaf: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
    """``out[i]``: how many of row ``leaf[i]``'s cumulative shares (but its last, which is 1) lie below
    ``u[i]``, compared in the shares' single precision: the code a uniform picks from a leaf's categories."""
    last = cumulative.shape[1] - 1
    for i in range(leaf.size):
        shares = cumulative[leaf[i]]
        target = np.float32(u[i])
        code = 0
        for c in range(last):
            code += shares[c] < target
        out[i] = code
