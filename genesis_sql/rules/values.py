"""Column values as numpy arrays and back: the common ground of rule detection, checks and derivation.

Numbers come out as float64 with NaN for NULL; dates as days and timestamps as microseconds since the
epoch, so that order, offsets and sums are plain arithmetic. Other columns come out as Python objects.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Kinds whose values are ordered numbers (dates and timestamps as counts since the epoch).
ORDERED_KINDS = ("numeric", "integer", "datetime")


def plain(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The column with a dictionary encoding (how categories are generated) decoded."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def numbers(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Float64 values with NaN for NULL (dates in days, timestamps in microseconds, booleans 0/1)."""
    column = plain(column)
    kind = column.type
    if pa.types.is_date32(kind):
        column = column.cast(pa.int32())
    elif pa.types.is_timestamp(kind):
        column = column.cast(pa.int64())
    elif pa.types.is_boolean(kind):
        column = column.cast(pa.int8())
    elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
        raise TypeError(f"not a number column: {kind}")
    if column.type != pa.float64():
        column = column.cast(pa.float64())
    if column.null_count:
        column = pc.fill_null(column, np.nan)
    return np.asarray(column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array)
                      else column.to_numpy(), dtype=np.float64)


def objects(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Python values (None for NULL) as an object array."""
    values = plain(column).to_pylist()
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def to_arrow(values: np.ndarray, target: pa.DataType) -> pa.Array:
    """Numbers (NaN = NULL) or objects as an Arrow array of ``target`` (a dictionary type keeps its values)."""
    value_type = target.value_type if pa.types.is_dictionary(target) else target
    if values.dtype == object:
        array = pa.array(values.tolist(), type=value_type)
    else:
        missing = np.isnan(values)
        if pa.types.is_floating(value_type):
            array = pa.array(values, mask=missing).cast(value_type)
        else:
            whole = np.where(missing, 0, np.round(values)).astype(np.int64)
            if pa.types.is_date32(value_type):
                array = pa.array(whole.astype(np.int32), mask=missing).cast(value_type)
            elif pa.types.is_boolean(value_type):
                array = pa.array(whole != 0, mask=missing)
            else:
                array = pa.array(whole, mask=missing).cast(value_type)
    return array.cast(target) if pa.types.is_dictionary(target) else array


def replace(table: pa.Table, name: str, values: np.ndarray) -> pa.Table:
    """``table`` with column ``name`` replaced by ``values`` (its type kept)."""
    index = table.schema.get_field_index(name)
    return table.set_column(index, table.schema.field(index), to_arrow(values, table.schema.field(index).type))


class Frame:
    """A table whose columns are converted once (many rules read the same columns)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._numbers: dict[str, np.ndarray] = {}
        self._objects: dict[str, np.ndarray] = {}

    @property
    def num_rows(self) -> int:
        """Rows of the table."""
        return self.table.num_rows

    def numbers(self, name: str) -> np.ndarray:
        """:func:`numbers` of a column, converted once."""
        if name not in self._numbers:
            self._numbers[name] = numbers(self.table.column(name))
        return self._numbers[name]

    def objects(self, name: str) -> np.ndarray:
        """:func:`objects` of a column, converted once."""
        if name not in self._objects:
            self._objects[name] = objects(self.table.column(name))
        return self._objects[name]


def as_frame(data: pa.Table | Frame) -> Frame:
    """A :class:`Frame` of a table (or the frame itself)."""
    return data if isinstance(data, Frame) else Frame(data)
