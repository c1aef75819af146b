"""Which pairs of values of two few-valued columns some training row shows (DESIGN.md "Feasibility").

A model generalises: it can make rows whose combination of categories no training row had. Conditions
that ask only for such combinations get rows the model extrapolates, and the user should hear so. Fit
records, for every pair of few-valued columns (categories, booleans, numbers of at most ``MAX_VALUES``
distinct values), one bit per pair of values: whether some training row has both. Never a count and
never a row. Only pairs are kept: three columns' combination may be unseen while each of its pairs was
seen, which these bits cannot tell.

DP models record nothing here: the bits are read from the rows outside the DP mechanism.
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.schema import ColumnSpec

# Columns with more distinct values than this (NULL counted) are left out: their pairs would be sparse
# and large, and most of their combinations unseen by chance.
MAX_VALUES = 64
# At most this many columns take part (those with the fewest values): 496 pairs, 254 KB of bits at most.
MAX_COLUMNS = 32
_KINDS = frozenset({"categorical", "boolean", "integer", "numeric"})


def _distinct(column: pa.ChunkedArray) -> list[Any] | None:
    """The column's distinct values (NULL as None) when they are few and JSON-safe, else None."""
    values = pc.unique(column)
    if len(values) > MAX_VALUES or len(values) < 2:
        return None
    listed = values.to_pylist()
    if any(isinstance(v, float) and not math.isfinite(v) for v in listed):
        return None
    return listed


def _codes(column: pa.ChunkedArray, values: list[Any]) -> np.ndarray:
    index = pc.index_in(column, value_set=pa.array(values, type=column.type), skip_nulls=False)
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)


class SeenPairs:
    """Per pair of few-valued columns, which pairs of their values occur together in training.

    Args:
        columns: the columns that take part.
        values: each column's distinct training values (None for NULL).
        bits: ``(i, j) -> bool matrix (values of i x values of j)`` for column indices ``i < j``.
    """

    def __init__(self, columns: list[str], values: list[list[Any]], bits: dict[tuple[int, int], np.ndarray]) -> None:
        self.columns = columns
        self.values = values
        self.bits = bits

    @classmethod
    def fit(cls, data: pa.Table, columns: list[ColumnSpec]) -> SeenPairs:
        """The pairs seen in ``data``."""
        found = [(spec.name, _distinct(data.column(spec.name))) for spec in columns if spec.kind in _KINDS]
        found = [(name, values) for name, values in found if values is not None]
        fewest = sorted(range(len(found)), key=lambda i: len(found[i][1]))[:MAX_COLUMNS]
        found = [found[i] for i in sorted(fewest)]
        codes = [_codes(data.column(name), values) for name, values in found]
        bits = {}
        for i, j in combinations(range(len(found)), 2):
            width = len(found[j][1])
            counts = np.bincount(codes[i] * width + codes[j], minlength=len(found[i][1]) * width)
            bits[i, j] = (counts > 0).reshape(len(found[i][1]), width)
        return cls([name for name, _ in found], [values for _, values in found], bits)

    def seen_together(self, first: str, first_allowed: np.ndarray, second: str, second_allowed: np.ndarray) -> bool:
        """Whether some training row has an allowed value of ``first`` together with one of ``second``."""
        i, j = self.columns.index(first), self.columns.index(second)
        if i > j:
            i, j, first_allowed, second_allowed = j, i, second_allowed, first_allowed
        return bool(self.bits[i, j][np.ix_(first_allowed, second_allowed)].any())

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Columns and values as metadata; each pair's bits packed, keyed ``"<i>.<j>"``."""
        arrays = {f"{i}.{j}": np.packbits(b.ravel()) for (i, j), b in self.bits.items()}
        return {"columns": self.columns, "values": self.values}, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> SeenPairs:
        """Inverse of :meth:`to_state`."""
        values = meta["values"]
        bits = {}
        for i, j in combinations(range(len(values)), 2):
            size = len(values[i]) * len(values[j])
            bits[i, j] = np.unpackbits(arrays[f"{i}.{j}"], count=size).astype(bool).reshape(len(values[i]), -1)
        return cls(list(meta["columns"]), values, bits)
