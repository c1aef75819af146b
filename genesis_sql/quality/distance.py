"""Distances to the closest records, with SDMetrics' DCR distance.

The distance between two rows is the mean over the columns of a per-column difference in [0, 1]:
for a continuous column ``min(|a - b| / range, 1)`` (``range`` is the reference rows' max - min; with a
zero range any difference counts 1), for a discrete column 0 when equal and 1 otherwise; two NULLs are
equal (0), a NULL against a value differs (1). This is SDMetrics' ``calculate_dcr`` distance.

Rows are compared in blocks of about :data:`BLOCK_CELLS` distances (float32, reused buffers), so
memory stays bounded; one pass gives the nearest rows in both directions. Matches of discrete columns
with few categories are counted by a matrix product of one-hot rows, the rest column by column.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality._threads import one_thread

BLOCK_CELLS = 2_000_000
# Discrete columns with fewer categories than this are compared through one-hot matrix products.
ONE_HOT_MAX = 256


@dataclass(frozen=True)
class Nearest:
    """Nearest distances between two sets of rows, a and b.

    Attributes:
        a_to_b: (rows of a, k) the ``k`` smallest distances from each row of a, ascending.
        b_to_a: (rows of b,) the smallest distance from each row of b.
        closest: (rows of a,) for each row of a, the position (in b's row indices) of its closest row
            of b; the first one when several are equally close.
    """

    a_to_b: np.ndarray
    b_to_a: np.ndarray
    closest: np.ndarray


def column_ranges(columns: Sequence[EncodedColumn], *references: tuple[str, np.ndarray]) -> np.ndarray:
    """The max - min of each continuous column over the rows of every ``(side, row indices)`` reference
    together (0 when no value)."""
    ranges = []
    for column in columns:
        if column.is_continuous:
            values = np.concatenate([column[side][rows] for side, rows in references])
            values = values[~np.isnan(values)]
            ranges.append(float(np.ptp(values)) if values.size else 0.0)
    return np.array(ranges)


def _is_narrow(column: EncodedColumn) -> bool:
    return not column.is_continuous and len(column.labels) < ONE_HOT_MAX


def _prepare(columns: Sequence[EncodedColumn], ranges: np.ndarray, side: str,
             rows: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Values compared one column at a time (continuous ones scaled by their range, wide discrete codes),
    and the one-hot matrix of the narrow discrete columns."""
    elementwise, one_hot, continuous = [], [], 0
    for column in columns:
        values = column[side][rows]
        if column.is_continuous:
            span = ranges[continuous]
            continuous += 1
            elementwise.append((values / span if span > 0 else values).astype(np.float32))
        elif _is_narrow(column):
            block = np.zeros((rows.size, len(column.labels) + 1), dtype=np.float32)
            block[np.arange(rows.size), values + 1] = 1.0  # NULL (-1) is category 0
            one_hot.append(block)
        else:
            elementwise.append(values)
    return elementwise, (np.hstack(one_hot) if one_hot else np.zeros((rows.size, 0), dtype=np.float32))


def _block(spans: Sequence[float | None], narrow: int, a: tuple[list[np.ndarray], np.ndarray],
           b: tuple[list[np.ndarray], np.ndarray], total: np.ndarray, buffer: np.ndarray, same: np.ndarray) -> None:
    """Fill ``total`` with the summed per-column differences of rows ``a`` against rows ``b``."""
    if narrow:
        # Equal categories of the narrow columns, counted by one matrix product of their one-hot rows.
        np.matmul(a[1], b[1].T, out=total)
        np.subtract(narrow, total, out=total)
    else:
        total[:] = 0.0
    for span, q, r in zip(spans, a[0], b[0]):
        if span is None:
            np.not_equal(q[:, None], r[None, :], out=same)
            total += same
            continue
        np.subtract(q[:, None], r[None, :], out=buffer)
        np.abs(buffer, out=buffer)
        if span > 0:
            np.minimum(buffer, 1.0, out=buffer)
        else:
            np.greater(buffer, 0.0, out=buffer, casting="unsafe")
        q_null, r_null = np.isnan(q), np.isnan(r)
        if q_null.any() or r_null.any():
            buffer[q_null[:, None] | r_null[None, :]] = 1.0
            buffer[q_null[:, None] & r_null[None, :]] = 0.0
        total += buffer


def nearest(columns: Sequence[EncodedColumn], ranges: np.ndarray, a: tuple[str, np.ndarray],
            b: tuple[str, np.ndarray], *, k: int = 1) -> Nearest:
    """The nearest distances from each row of ``a`` to ``b`` (``k`` of them) and from each row of ``b`` to ``a``.

    Args:
        columns: The encoded columns to compare.
        ranges: :func:`column_ranges` of the reference rows.
        a: ``(side, row indices)`` of the first set of rows.
        b: ``(side, row indices)`` of the second set of rows.
        k: How many nearest distances to keep per row of ``a`` (at most the rows of ``b``).

    Returns:
        The :class:`Nearest` distances, and the closest row of ``b`` to each row of ``a``.
    """
    (a_side, a_rows), (b_side, b_rows) = a, b
    k = min(k, b_rows.size)
    continuous = iter(ranges)
    spans = [next(continuous) if c.is_continuous else None for c in columns if not _is_narrow(c)]
    narrow = sum(_is_narrow(c) for c in columns)
    b_values = _prepare(columns, ranges, b_side, b_rows)
    block = max(1, BLOCK_CELLS // max(b_rows.size, 1))
    total = np.empty((block, b_rows.size), dtype=np.float32)
    buffer = np.empty_like(total)
    same = np.empty(total.shape, dtype=bool)
    a_to_b = np.empty((a_rows.size, k), dtype=np.float64)
    b_to_a = np.full(b_rows.size, np.inf)
    closest = np.zeros(a_rows.size, dtype=np.int64)
    for start in range(0, a_rows.size, block):
        chunk = a_rows[start:start + block]
        rows = chunk.size
        with one_thread():
            _block(spans, narrow, _prepare(columns, ranges, a_side, chunk), b_values,
                   total[:rows], buffer[:rows], same[:rows])
        distances = total[:rows]
        distances /= max(len(columns), 1)
        smallest = np.partition(distances, k - 1, axis=1)[:, :k] if k < distances.shape[1] else distances
        a_to_b[start:start + rows] = np.sort(smallest, axis=1)[:, :k]
        if b_rows.size:
            closest[start:start + rows] = distances.argmin(axis=1)
        np.minimum(b_to_a, distances.min(axis=0), out=b_to_a)
    return Nearest(a_to_b, b_to_a, closest)
