"""Column type detection with DESIGN.md's vocabulary: numeric, integer, categorical, boolean, datetime, id, text.

Detection reads the DuckDB type of each column and the values themselves; ``column_types`` overrides it
per column. The result is a list of :class:`ColumnSpec`, stored with every model as JSON.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.errors import InvalidArgumentError, UnsupportedColumnTypeError

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "id", "text")

# Numbers with at most this many distinct values are categories (SDMetrics' convention is 10).
MAX_CATEGORICAL_NUMBERS = 10
# Strings are free text when they have this many distinct values and mostly differ from row to row.
MIN_TEXT_DISTINCT = 50
TEXT_DISTINCT_RATIO = 0.5

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
_DATETIME = re.compile(r"^(DATE|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|TIMESTAMP\(\d\))$")
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|nr|code|number)$", re.IGNORECASE)
# Row labels that exports add (R's write.csv, pandas' to_csv): identifiers whatever their values.
_ROW_LABEL_NAME = re.compile(r"^(|rownames|row_names|index|unnamed: ?0)$", re.IGNORECASE)
_SUPPORTED_HINT = "integers, floating point and DECIMAL numbers, VARCHAR, BOOLEAN, DATE, TIMESTAMP, UUID"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a model: its name, detected kind, DuckDB type and whether it had NULLs."""

    name: str
    kind: str
    sql_type: str
    nullable: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``genesis.models.columns``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(name=data["name"], kind=data["kind"], sql_type=data["sql_type"], nullable=data["nullable"])


def base_type(sql_type: str) -> str:
    """The DuckDB type without parameters: ``DECIMAL(18,3)`` -> ``DECIMAL``."""
    return sql_type.split("(")[0].strip().upper()


def output_type(sql_type: str) -> str:
    """The DuckDB type genesis produces for a column of ``sql_type`` (DECIMAL comes back as DOUBLE)."""
    base = base_type(sql_type)
    if base == "DECIMAL":
        return "DOUBLE"
    if base == "UUID":
        return "VARCHAR"
    if base in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "TIMESTAMP WITH TIME ZONE"
    return sql_type.upper()


def _is_supported(sql_type: str) -> bool:
    base = base_type(sql_type)
    return (base in _INTEGER_TYPES or base in _FLOAT_TYPES or base in ("DECIMAL", "VARCHAR", "BOOLEAN", "UUID")
            or bool(_DATETIME.match(sql_type.upper())))


# What each kind needs of a column's type, for overrides (detection only ever picks a fitting kind).
_KIND_NEEDS = {
    "numeric": "a number column", "integer": "a number column", "datetime": "a DATE or TIMESTAMP column",
    "id": "an integer or VARCHAR column", "text": "a VARCHAR column",
    "categorical": "a column that is not a date/time", "boolean": "a column that is not a date/time",
}


def _kind_fits(kind: str, sql_type: str) -> bool:
    """Whether a column of ``sql_type`` can be modelled as ``kind``."""
    base = base_type(sql_type)
    temporal = bool(_DATETIME.match(sql_type.upper()))
    if kind in ("numeric", "integer"):
        return base in _INTEGER_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"
    if kind == "datetime":
        return temporal
    if kind == "id":
        return base in _INTEGER_TYPES or base in ("VARCHAR", "UUID")
    if kind == "text":
        return base == "VARCHAR"
    return not temporal


def _looks_like_id(name: str, values: pa.ChunkedArray, base: str) -> bool:
    """Unique on every row, and either named like an identifier or shaped like one.

    Integers must be named like one: unique integers are as often measurements (a year per row, a
    population per month), and an id is generated fresh above the training maximum, which would lose them.
    """
    if values.null_count or len(values) < 20:
        return False
    if pc.count_distinct(values).as_py() != len(values):
        return False
    if base in _INTEGER_TYPES:
        return bool(_ID_NAME.search(name) or _ROW_LABEL_NAME.match(name))
    if base == "UUID":
        return True
    if base == "VARCHAR":
        has_space = pc.any(pc.match_substring(values, " ")).as_py()
        return not has_space and pc.max(pc.utf8_length(values)).as_py() <= 64
    return False


def _detect_one(name: str, sql_type: str, values: pa.ChunkedArray) -> str:
    base = base_type(sql_type)
    non_null = len(values) - values.null_count
    if base == "BOOLEAN":
        return "boolean"
    if _DATETIME.match(sql_type.upper()):
        return "datetime"
    if _looks_like_id(name, values, base):
        return "id"
    distinct = pc.count_distinct(values).as_py() if non_null else 0
    if base in _INTEGER_TYPES or base in _FLOAT_TYPES or base == "DECIMAL":
        if distinct <= MAX_CATEGORICAL_NUMBERS:
            return "categorical"
        if base in _INTEGER_TYPES:
            return "integer"
        return "numeric"
    if distinct >= MIN_TEXT_DISTINCT and distinct > TEXT_DISTINCT_RATIO * non_null:
        return "text"
    return "categorical"


def detect_schema(
    table: pa.Table, sql_types: dict[str, str], column_types: dict[str, str] | None = None
) -> list[ColumnSpec]:
    """Detect every column's kind; ``column_types`` (name -> kind) overrides detection.

    Raises:
        UnsupportedColumnTypeError: some columns have types no synthesizer models (all of them named).
        InvalidArgumentError: ``column_types`` names unknown columns or kinds.
    """
    overrides = {k.lower(): v for k, v in (column_types or {}).items()}
    by_lower = {name.lower(): name for name in table.column_names}
    unknown = sorted(set(overrides) - set(by_lower))
    if unknown:
        raise InvalidArgumentError(
            f"column_types names columns the training data does not have: {unknown}. Columns: {table.column_names}."
        )
    bad_kinds = {k: v for k, v in overrides.items() if v not in KINDS}
    if bad_kinds:
        raise InvalidArgumentError(f"Unknown column kinds {bad_kinds}; use one of {', '.join(KINDS)}.")
    unsupported = [f"{n} ({sql_types[n]})" for n in table.column_names if not _is_supported(sql_types[n])]
    if unsupported:
        raise UnsupportedColumnTypeError(
            f"Cannot model columns {', '.join(unsupported)}: supported are {_SUPPORTED_HINT}. "
            "Leave them out of the training query (SELECT * EXCLUDE (...)) or cast them."
        )
    misfits = [f"{by_lower[k]!r} ({sql_types[by_lower[k]]}) as {v!r}: {v} needs {_KIND_NEEDS[v]}"
               for k, v in overrides.items() if not _kind_fits(v, sql_types[by_lower[k]])]
    if misfits:
        raise InvalidArgumentError(f"column_types cannot model {'; '.join(misfits)}. Choose another kind or cast "
                                   "the column in the training query.")
    specs = []
    for name in table.column_names:
        values = table.column(name)
        kind = overrides.get(name.lower()) or _detect_one(name, sql_types[name], values)
        specs.append(ColumnSpec(name=name, kind=kind, sql_type=sql_types[name], nullable=values.null_count > 0))
    return specs


def decimals_of(values: np.ndarray, max_decimals: int = 6) -> int | None:
    """The fewest decimal places that represent every value exactly, or None beyond ``max_decimals``.

    Example:
        >>> decimals_of(np.array([0.23, 1.5, 2.0]))
        2
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0
    sample = finite[:: max(1, finite.size // 20000)]
    for places in range(max_decimals + 1):
        scaled = sample * 10.0**places
        # Relative slack absorbs float noise (0.1 + 0.2, values that went through float32), but never more
        # than a thousandth of the last place: a bare relative test accepts any large value at 0 places.
        slack = np.minimum(1e-6 * np.maximum(1.0, np.abs(scaled)), 1e-3)
        if np.all(np.abs(scaled - np.round(scaled)) <= slack):
            return places
    return None
