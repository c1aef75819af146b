"""Support checks: does the training data give a condition any room at all? (DESIGN.md "Feasibility")

Support per column is what training saw: numeric and datetime ranges [min, max] (integers inside it for
integer columns), the seen categories, NULL only where the column had NULLs. A condition whose atoms
leave some column no support fails at once with the condition and the support in the message.
"""
from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.errors import InfeasibleConditionError
from genesis_sql.models._columns import CategoricalCodec, Codec, NumericCodec


def _to_number(value: Any, codec: NumericCodec) -> float:
    """A condition value in the codec's numeric units (days or microseconds for dates and timestamps)."""
    if isinstance(value, dt.datetime):
        epoch = dt.datetime(1970, 1, 1, tzinfo=value.tzinfo)
        micros = (value - epoch) // dt.timedelta(microseconds=1)
        return float(micros // 86_400_000_000) if codec.spec.sql_type.upper() == "DATE" else float(micros)
    if isinstance(value, dt.date):
        days = (value - dt.date(1970, 1, 1)).days
        return float(days) if codec.spec.sql_type.upper() == "DATE" else float(days) * 86_400_000_000
    return float(value)


def _render(value: float, codec: NumericCodec) -> str:
    if codec.spec.kind == "datetime":
        if codec.spec.sql_type.upper() == "DATE":
            return (dt.date(1970, 1, 1) + dt.timedelta(days=int(value))).isoformat()
        return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(value))).isoformat(sep=" ")
    return f"{value:g}"


def numeric_interval(atoms: Sequence[Condition], codec: NumericCodec) -> tuple[float, float, bool, bool]:
    """The (low, high) range the atoms allow for the non-NULL values, and whether NULL / non-NULL are allowed."""
    low, high = -math.inf, math.inf
    allow_null, allow_value = True, True
    for atom in atoms:
        op, value = atom.operator, atom.value
        if op == "is_null":
            allow_value = False
            continue
        if op == "is_not_null":
            allow_null = False
            continue
        allow_null = False
        if op in (">", ">="):
            bound = _to_number(value, codec)
            low = max(low, float(np.nextafter(bound, math.inf)) if op == ">" else bound)
        elif op in ("<", "<="):
            bound = _to_number(value, codec)
            high = min(high, float(np.nextafter(bound, -math.inf)) if op == "<" else bound)
        elif op == "=":
            low, high = max(low, _to_number(value, codec)), min(high, _to_number(value, codec))
        elif op == "between":
            low, high = max(low, _to_number(value[0], codec)), min(high, _to_number(value[1], codec))
        elif op == "in":
            numbers = [_to_number(v, codec) for v in value]
            low, high = max(low, min(numbers)), min(high, max(numbers))
    return float(low), float(high), allow_null, allow_value


def allowed_categories(atoms: Sequence[Condition], codec: CategoricalCodec) -> np.ndarray:
    """Boolean mask over the codec's categories: which ones every atom allows."""
    allowed = np.ones(len(codec.categories_), dtype=bool)
    for atom in atoms:
        for i, category in enumerate(codec.categories_):
            if allowed[i] and not _category_matches(atom, category):
                allowed[i] = False
    return allowed


def _equal(category: Any, value: Any) -> bool:
    if isinstance(category, bool) or isinstance(value, bool):
        return category is value or category == value and type(category) is type(value)
    if isinstance(category, (int, float)) and isinstance(value, (int, float)):
        return float(category) == float(value)
    return category == value


def _like(pattern: str, text: str, insensitive: bool) -> bool:
    translated = "".join("*" if ch == "%" else "?" if ch == "_" else ("[" + ch + "]" if ch in "*?[" else ch)
                         for ch in pattern)
    if insensitive:
        return fnmatch.fnmatchcase(text.lower(), translated.lower())
    return fnmatch.fnmatchcase(text, translated)


def _category_matches(atom: Condition, category: Any) -> bool:
    """SQL truth of the atom for one category value (NULL comparisons are not true)."""
    op, value = atom.operator, atom.value
    if op == "is_null":
        return category is None
    if op == "is_not_null":
        return category is not None
    if category is None:
        return False
    if op == "=":
        return _equal(category, value)
    if op == "!=":
        return not _equal(category, value)
    if op == "in":
        return any(_equal(category, v) for v in value)
    if op == "not_in":
        return not any(_equal(category, v) for v in value)
    if op in ("like", "not_like", "ilike", "not_ilike"):
        hit = isinstance(category, str) and _like(value, category, "ilike" in op)
        return not hit if op.startswith("not_") else hit
    try:
        if op == "between":
            return value[0] <= category <= value[1]
        return {"<": category < value, "<=": category <= value, ">": category > value, ">=": category >= value}[op]
    except TypeError:
        return False


def check_support(conditions: ConditionSet, codecs: Sequence[Codec]) -> None:
    """Raise :class:`InfeasibleConditionError` when some column's atoms leave it no training support.

    Columns without a codec here (models that keep their own marginals) are left to the pilot estimate.
    """
    by_name = {c.spec.name: c for c in codecs}
    for column in sorted(conditions.columns & set(by_name)):
        atoms = [a for a in conditions.conditions if a.column == column]
        codec = by_name[column]
        text = " AND ".join(a.to_sql() for a in atoms)
        if isinstance(codec, NumericCodec):
            low, high, allow_null, allow_value = numeric_interval(atoms, codec)
            has_null = codec.null_fraction_ > 0
            if codec.values_.size == 0:
                lo_seen = hi_seen = None
            else:
                lo_seen, hi_seen = float(codec.values_[0]), float(codec.values_[-1])
            value_ok = allow_value and lo_seen is not None and low <= high and low <= hi_seen and high >= lo_seen
            if value_ok and codec.discrete_:
                value_ok = bool(np.any((codec.values_ >= low) & (codec.values_ <= high)))
            if (value_ok and codec.spec.kind == "integer" and math.isfinite(low) and math.isfinite(high)
                    and math.floor(high) < math.ceil(low)):
                value_ok = False
            if not value_ok and not (allow_null and has_null):
                support = (f"[{_render(lo_seen, codec)}, {_render(hi_seen, codec)}]" if lo_seen is not None
                           else "no non-NULL values")
                nulls = "; NULL also occurs" if has_null else "; never NULL"
                raise InfeasibleConditionError(
                    f"Condition {text} cannot be met: column {column!r} was {support} in training{nulls}.")
        elif isinstance(codec, CategoricalCodec):
            if not allowed_categories(atoms, codec).any():
                seen = [c for c in codec.categories_ if c is not None]
                wanted = [a.value for a in atoms if a.operator in ("=", "in")]
                flat = [v for w in wanted for v in (w if isinstance(w, tuple) else (w,))]
                close = sorted({m for v in flat if isinstance(v, str)
                                for m in difflib.get_close_matches(v, [str(s) for s in seen], n=3)})
                hint = f" Closest: {', '.join(repr(c) for c in close)}." if close else ""
                shown = ", ".join(repr(s) for s in seen[:20]) + (" ..." if len(seen) > 20 else "")
                raise InfeasibleConditionError(
                    f"Condition {text} cannot be met: column {column!r} only takes {shown} in training"
                    f"{'' if None in codec.categories_ else ' and is never NULL'}.{hint}")
