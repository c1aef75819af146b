"""Distances to the closest records, with SDMetrics' DCR distance.

The distance between two rows is the mean over the columns of a per-column difference in [0, 1]:
for a continuous column ``min(|a - b| / range, 1)`` (``range`` is the reference rows' max - min; with a
zero range any difference counts 1), for a discrete column 0 when equal and 1 otherwise; two NULLs are
equal (0), a NULL against a value differs (1). This is SDMetrics' ``calculate_dcr`` distance.

Rows are compared in blocks of about :data:`BLOCK_CELLS` distances (float32, reused buffers), so
memory stays bounded; one pass gives the nearest rows in both directions.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genesis_sql.quality._columns import EncodedColumn

BLOCK_CELLS = 2_000_000


@dataclass(frozen=True)
class Nearest:
    """Nearest distances between two sets of rows, a and b.

    Attributes:
        a_to_b: (rows of a, k) the ``k`` smallest distances from each row of a, ascending.
        b_to_a: (rows of b,) the smallest distance from each row of b.
    """

    a_to_b: np.ndarray
    b_to_a: np.ndarray


def column_ranges(columns: Sequence[EncodedColumn], side: str, rows: np.ndarray) -> np.ndarray:
    """The max - min of each continuous column over the given reference rows (0 when no value)."""
    ranges = []
    for column in columns:
        if column.is_continuous:
            values = column[side][rows]
            values = values[~np.isnan(values)]
            ranges.append(float(np.ptp(values)) if values.size else 0.0)
    return np.array(ranges)


def _prepare(columns: Sequence[EncodedColumn], ranges: np.ndarray, side: str, rows: np.ndarray) -> list[np.ndarray]:
    """Per column: continuous values scaled by their range (float32), or codes."""
    prepared, continuous = [], 0
    for column in columns:
        values = column[side][rows]
        if column.is_continuous:
            span = ranges[continuous]
            continuous += 1
            prepared.append((values / span if span > 0 else values).astype(np.float32))
        else:
            prepared.append(values)
    return prepared


def _block(columns: Sequence[EncodedColumn], ranges: np.ndarray, a: list[np.ndarray], b: list[np.ndarray],
           total: np.ndarray, buffer: np.ndarray, same: np.ndarray) -> None:
    total[:] = 0.0
    continuous = 0
    for column, q, r in zip(columns, a, b):
        if column.is_continuous:
            span = ranges[continuous]
            continuous += 1
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
        else:
            np.not_equal(q[:, None], r[None, :], out=same)
            total += same
    total /= max(len(columns), 1)


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
        The :class:`Nearest` distances.
    """
    (a_side, a_rows), (b_side, b_rows) = a, b
    k = min(k, b_rows.size)
    b_values = _prepare(columns, ranges, b_side, b_rows)
    block = max(1, BLOCK_CELLS // max(b_rows.size, 1))
    total = np.empty((block, b_rows.size), dtype=np.float32)
    buffer = np.empty_like(total)
    same = np.empty(total.shape, dtype=bool)
    a_to_b = np.empty((a_rows.size, k), dtype=np.float64)
    b_to_a = np.full(b_rows.size, np.inf)
    for start in range(0, a_rows.size, block):
        chunk = a_rows[start:start + block]
        rows = chunk.size
        _block(columns, ranges, _prepare(columns, ranges, a_side, chunk), b_values,
               total[:rows], buffer[:rows], same[:rows])
        distances = total[:rows]
        smallest = np.partition(distances, k - 1, axis=1)[:, :k] if k < distances.shape[1] else distances
        a_to_b[start:start + rows] = np.sort(smallest, axis=1)[:, :k]
        np.minimum(b_to_a, distances.min(axis=0), out=b_to_a)
    return Nearest(a_to_b, b_to_a)
