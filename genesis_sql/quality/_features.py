"""Numeric feature matrices for the model-based metrics (detection, PCA projection).

Continuous columns are standardised with the real mean and spread, NULL becomes 0 plus a missing
indicator; discrete columns are one-hot encoded over their most frequent real categories (NULL is a
category), the rest sharing one "other" column.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_sql.quality._columns import EncodedColumn

MAX_ONE_HOT = 30


def _continuous(column: EncodedColumn, sides: Sequence[str], rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    real = column["real"]
    mean = np.nanmean(real) if (~np.isnan(real)).any() else 0.0
    spread = np.nanstd(real) if (~np.isnan(real)).any() else 1.0
    spread = spread if spread > 0 else 1.0
    blocks = []
    has_null = any(np.isnan(column[side][idx]).any() for side, idx in zip(sides, rows))
    for side, idx in zip(sides, rows):
        values = (column[side][idx] - mean) / spread
        null = np.isnan(values)
        block = [np.where(null, 0.0, values)]
        if has_null:
            block.append(null.astype(np.float64))
        blocks.append(np.column_stack(block))
    return blocks


def _discrete(column: EncodedColumn, sides: Sequence[str], rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    codes, counts = np.unique(column["real"], return_counts=True)
    kept = np.sort(codes[np.argsort(-counts, kind="stable")][:MAX_ONE_HOT])
    blocks = []
    for side, idx in zip(sides, rows):
        values = column[side][idx]
        position = np.clip(np.searchsorted(kept, values), 0, kept.size - 1)
        known = kept[position] == values
        block = np.zeros((values.size, kept.size + 1))
        block[np.arange(values.size), np.where(known, position, kept.size)] = 1.0
        blocks.append(block)
    return blocks


def feature_matrices(columns: Sequence[EncodedColumn], sides: Sequence[str],
                     rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    """One feature matrix per side, over the given rows of each side, with shared columns.

    Args:
        columns: The encoded columns.
        sides: Table roles such as ``("real", "synthetic")``.
        rows: For each side, the row indices to use.

    Returns:
        A float64 matrix per side, with the same feature columns in the same order.
    """
    per_side: list[list[np.ndarray]] = [[] for _ in sides]
    for column in columns:
        encode = _continuous if column.is_continuous else _discrete
        for blocks, block in zip(per_side, encode(column, sides, rows)):
            blocks.append(block)
    return [np.hstack(blocks) if blocks else np.zeros((len(idx), 0)) for blocks, idx in zip(per_side, rows)]
