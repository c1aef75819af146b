"""Turn the Arrow tables of one evaluation into the numpy arrays the metrics work on.

A column is either *continuous* (numeric, integer and datetime kinds: float64 values, NaN for NULL;
dates and timestamps as microseconds since the epoch) or *discrete* (categorical and boolean kinds: int64
codes shared by every table, -1 for NULL). Identifier and free-text columns take part in no fidelity
metric, as in SDMetrics, and are left out here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CONTINUOUS_KINDS = frozenset({"numeric", "integer", "datetime"})
DISCRETE_KINDS = frozenset({"categorical", "boolean"})


@dataclass(frozen=True)
class EncodedColumn:
    """One column of every table of an evaluation, encoded for the metrics.

    Attributes:
        name: The column name.
        kind: The model's column kind.
        sides: Values per table (``"real"``, ``"synthetic"``, ...): float64 with NaN (continuous)
            or int64 codes with -1 for NULL (discrete).
        labels: For a discrete column, the value of each code; empty for a continuous one.
        unit: For a datetime column, the numpy unit of its values (``"us"``).
    """

    name: str
    kind: str
    sides: Mapping[str, np.ndarray] = field(repr=False)
    labels: tuple[Any, ...] = ()
    unit: str | None = None

    def __getitem__(self, side: str) -> np.ndarray:
        return self.sides[side]

    @property
    def is_continuous(self) -> bool:
        """Whether the column is continuous (KS complement, correlation) rather than discrete."""
        return self.kind in CONTINUOUS_KINDS

    def is_null(self, side: str) -> np.ndarray:
        """A boolean mask of the NULL values of one table."""
        values = self.sides[side]
        return np.isnan(values) if self.is_continuous else values < 0

    def non_null(self, side: str) -> np.ndarray:
        """The values of one table without its NULLs."""
        return self.sides[side][~self.is_null(side)]


# Dates and timestamps of any unit become microseconds since the epoch, so that a DATE real column and
# a TIMESTAMP synthetic one (or seconds against microseconds) compare on one scale.
TIME_UNIT = "us"


def _to_float(values: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        zone = values.type.tz if pa.types.is_timestamp(values.type) else None
        values = pc.cast(pc.cast(values, pa.timestamp(TIME_UNIT, tz=zone)), pa.int64())
    return pc.cast(values, pa.float64()).to_numpy().astype(np.float64, copy=False)


def _to_codes(arrays: list[pa.ChunkedArray]) -> tuple[list[np.ndarray], tuple[Any, ...]]:
    if len({a.type for a in arrays}) > 1:
        # Synthetic columns may come back with another type (DECIMAL as DOUBLE, UUID as VARCHAR): compare
        # numbers as doubles and anything else as text, so that equal values get equal codes.
        numeric = all(pa.types.is_integer(a.type) or pa.types.is_floating(a.type) or pa.types.is_decimal(a.type)
                      for a in arrays)
        arrays = [pc.cast(a, pa.float64() if numeric else pa.string()) for a in arrays]
    combined = pa.chunked_array([c for a in arrays for c in a.chunks], type=arrays[0].type).combine_chunks()
    encoded = combined.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64, copy=False)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return [codes[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])], tuple(encoded.dictionary.to_pylist())


def encode_columns(tables: Mapping[str, pa.Table], columns: list[dict[str, Any]]) -> list[EncodedColumn]:
    """Encode every continuous and discrete column of ``columns`` (the model's column specs).

    Args:
        tables: The tables by role (``"real"``, ``"synthetic"``, ``"holdout"`` ...); each must contain
            every named column. A table given under two roles is encoded once.
        columns: Dicts with at least ``name`` and ``kind``, in the model's order.

    Returns:
        One :class:`EncodedColumn` per column whose kind takes part in the fidelity metrics.

    Example:
        >>> real = pa.table({"a": [1.0, None], "c": ["x", "y"]})
        >>> cols = [{"name": "a", "kind": "numeric"}, {"name": "c", "kind": "categorical"}]
        >>> encoded = encode_columns({"real": real, "synthetic": real}, cols)
        >>> [e.name for e in encoded], encoded[1].labels, encoded[1]["synthetic"].tolist()
        (['a', 'c'], ('x', 'y'), [0, 1])
    """
    distinct: dict[int, pa.Table] = {}
    for table in tables.values():
        distinct.setdefault(id(table), table)
    encoded = []
    for spec in columns:
        name, kind = spec["name"], spec["kind"]
        arrays = [table.column(name) for table in distinct.values()]
        if kind in CONTINUOUS_KINDS:
            values, labels = [_to_float(a) for a in arrays], ()
        elif kind in DISCRETE_KINDS:
            values, labels = _to_codes(arrays)
        else:
            continue
        by_table = dict(zip(distinct, values))
        sides = {role: by_table[id(table)] for role, table in tables.items()}
        encoded.append(EncodedColumn(name, kind, sides, labels, TIME_UNIT if kind == "datetime" else None))
    return encoded
