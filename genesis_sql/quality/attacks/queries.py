"""Singling-out queries as arrays: conjunctions of ``column op value`` predicates, counted on row matrices.

The attacks see a table as a float matrix (rows x columns): continuous values as they are, discrete codes
as numbers, NULL as NaN. A query is one row of three (queries x predicates) arrays: the column, the
operator code and the value of each predicate, its predicates sorted by column, so that equal queries
are equal rows. NULL never satisfies a comparison (as in SQL and polars); ``IS_NULL`` and ``NOT_NULL``
test for it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.distance import BLOCK_CELLS

EQ, NE, LT, GT, LE, GE, IS_NULL, NOT_NULL = range(8)

_TESTS: dict[int, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    EQ: lambda x, v: x == v,
    NE: lambda x, v: (x != v) & ~np.isnan(x),
    LT: lambda x, v: x < v,
    GT: lambda x, v: x > v,
    LE: lambda x, v: x <= v,
    GE: lambda x, v: x >= v,
    IS_NULL: lambda x, v: np.isnan(x),
    NOT_NULL: lambda x, v: ~np.isnan(x),
}


def attack_matrix(columns: Sequence[EncodedColumn], side: str, rows: np.ndarray) -> np.ndarray:
    """The rows of one side as a (rows, columns) float matrix, NULL as NaN (discrete codes as numbers)."""
    matrix = np.empty((rows.size, len(columns)), dtype=np.float64)
    for i, column in enumerate(columns):
        values = column[side][rows]
        matrix[:, i] = values if column.is_continuous else np.where(values < 0, np.nan, values)
    return matrix


def _keys(matrix: np.ndarray) -> np.ndarray:
    """Rows that compare equal when the original rows are equal, NULL included (NaN is not equal to NaN)."""
    return np.hstack([np.nan_to_num(matrix, nan=0.0), np.isnan(matrix)])


def first_distinct(matrix: np.ndarray) -> np.ndarray:
    """The indices of the first occurrence of each distinct row, in their original order.

    Example:
        >>> first_distinct(np.array([[1.0], [np.nan], [1.0], [np.nan], [2.0]])).tolist()
        [0, 1, 4]
    """
    if matrix.shape[0] == 0:
        return np.arange(0)
    _, first = np.unique(_keys(matrix), axis=0, return_index=True)
    return np.sort(first)


@dataclass(frozen=True)
class Queries:
    """Singling-out queries: query ``i`` holds when every ``(columns[i, j], ops[i, j], values[i, j])`` does.

    Attributes:
        columns: (queries, predicates) column positions in the attack matrix.
        ops: (queries, predicates) operator codes (``EQ`` ... ``NOT_NULL``).
        values: (queries, predicates) the values compared with (ignored by the NULL tests).
    """

    columns: np.ndarray
    ops: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return self.columns.shape[0]

    def take(self, index: np.ndarray) -> Queries:
        """The queries at ``index`` (positions or a boolean mask), in that order."""
        return Queries(self.columns[index], self.ops[index], self.values[index])

    @classmethod
    def concat(cls, parts: Sequence[Queries]) -> Queries:
        """The queries of every part, one after the other."""
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("columns", "ops", "values")))

    def distinct(self) -> Queries:
        """Each query once, at its first occurrence."""
        values = np.where(np.isin(self.ops, (IS_NULL, NOT_NULL)), 0.0, self.values)
        return self.take(first_distinct(np.hstack([self.columns, self.ops, values]).astype(np.float64)))

    def counts(self, matrix: np.ndarray) -> np.ndarray:
        """How many rows of ``matrix`` each query matches, in blocks of about ``BLOCK_CELLS`` comparisons."""
        by_column = np.ascontiguousarray(matrix.T)
        rows = matrix.shape[0]
        counts = np.zeros(len(self), dtype=np.int64)
        block = max(1, BLOCK_CELLS // max(rows, 1))
        for start in range(0, len(self), block):
            part = slice(start, start + block)
            match = np.ones((len(self.columns[part]), rows), dtype=bool)
            for j in range(self.columns.shape[1]):
                values, ops, targets = by_column[self.columns[part, j]], self.ops[part, j], self.values[part, j]
                for op in np.unique(ops):
                    chosen = ops == op
                    match[chosen] &= _TESTS[int(op)](values[chosen], targets[chosen, None])
            counts[part] = match.sum(axis=1)
        return counts
