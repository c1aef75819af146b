"""Support checks: does the training data give a condition any room at all? (DESIGN.md "Feasibility")

Support per column is what training saw: numeric and datetime ranges [min, max] (integers inside it for
integer columns), the seen categories, NULL only where the column had NULLs. A condition whose atoms
leave some column no support fails at once with the condition and the support in the message.

A condition that has support but asks for what training never showed (a value a column never took, a
combination of two columns' values no training row has) is generated, but :func:`unseen_notes` names
what the rows extrapolate, for the log and ``explain``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.errors import InfeasibleConditionError
from genesis_sql.models._columns import CategoricalCodec, Codec, NumericCodec
from genesis_sql.models._seen import SeenPairs
from genesis_sql.rules import Equal, Function, Offset, RuleSet


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


def _asked_values(atoms: Sequence[Condition]) -> list[Any]:
    """The values ``=`` and ``IN`` atoms name."""
    return [v for a in atoms if a.operator in ("=", "in") for v in (a.value if a.operator == "in" else (a.value,))]


def _unseen_values(column: str, atoms: Sequence[Condition], codec: Codec) -> list[str]:
    """Notes on values that ``=`` / ``IN`` atoms name and training never showed in ``column``."""
    asked = [v for v in _asked_values(atoms) if v is not None]
    if isinstance(codec, CategoricalCodec):
        return [f"{Condition(column, '=', v).to_sql()} never occurs in training (no row will have it)" for v in asked
                if not any(_equal(c, v) for c in codec.categories_)]
    if not isinstance(codec, NumericCodec) or not codec.values_.size:
        return []
    numbers = [(v, _to_number(v, codec)) for v in asked if not isinstance(v, (bool, str))]
    if codec.discrete_:
        return [f"{Condition(column, '=', v).to_sql()} never occurs in training (no row will have it)"
                for v, x in numbers if not np.any(codec.values_ == x)]
    low, high = float(codec.values_[0]), float(codec.values_[-1])
    return [f"{Condition(column, '=', v).to_sql()} lies outside the training range [{_render(low, codec)}, "
            f"{_render(high, codec)}] (no row will have it)" for v, x in numbers if not low <= x <= high]


def _unseen_pairs(conditions: ConditionSet, seen: SeenPairs) -> list[str]:
    """Notes on pairs of columns whose allowed values no training row has together."""
    narrowed = {}
    for column, values in zip(seen.columns, seen.values):
        atoms = [a for a in conditions.conditions if a.column == column]
        allowed = np.array([all(_category_matches(a, v) for a in atoms) for v in values], dtype=bool)
        if atoms and allowed.any() and not allowed.all():
            narrowed[column] = (allowed, " AND ".join(a.to_sql() for a in atoms))
    return [f"no training row has {narrowed[a][1]} together with {narrowed[b][1]} (rows that do are the "
            "model's extrapolation)"
            for a, b in combinations(narrowed, 2)
            if not seen.seen_together(a, narrowed[a][0], b, narrowed[b][0])]


def unseen_notes(conditions: ConditionSet, model: Any) -> list[str]:
    """What ``conditions`` ask for that training never showed, one note each: values an ``=`` or ``IN``
    names that a column never took (outside its range, for numbers on a continuum), and combinations of
    values of two few-valued columns that no training row has (from the model's ``seen_`` pairs; none
    for models stored without them). Rows for such a condition are the model's extrapolation.
    """
    by_name = {c.spec.name: c for c in getattr(model, "codecs_", [])}
    notes = []
    for column in sorted(conditions.columns & set(by_name)):
        notes += _unseen_values(column, [a for a in conditions.conditions if a.column == column], by_name[column])
    seen = getattr(model, "seen_", None)
    return notes + (_unseen_pairs(conditions, seen) if seen is not None else [])


def with_rule_atoms(rules: RuleSet, conditions: ConditionSet) -> ConditionSet:
    """``conditions`` plus the atoms a model's derived rules imply on their sources.

    An atom on a derived column says something about the columns it is derived from (``x_again > 5`` with
    ``x_again = x`` is ``x > 5``; ``label = 'b'`` with ``label = f(code)`` is ``code IN (codes of 'b')``).
    Samplers that propose rows inside a condition's region then aim at the right rows. Raises
    InfeasibleConditionError when no source value gives an allowed derived value.
    """
    if not rules.derived or not conditions.conditions:
        return conditions
    extra: list[Condition] = []
    for rule in rules.derived:
        atoms = [a for a in conditions.conditions if a.column == rule.target]
        if not atoms:
            continue
        if isinstance(rule, Equal):
            extra += [Condition(rule.right, a.operator, a.value) for a in atoms]
        elif isinstance(rule, Offset):
            extra += [Condition(rule.right, a.operator, a.value - rule.delta) for a in atoms
                      if a.operator in ("<", "<=", ">", ">=", "=") and isinstance(a.value, (int, float))
                      and not isinstance(a.value, bool)]
        elif isinstance(rule, Function):
            on_source = [a for a in conditions.conditions if a.column == rule.source]
            allowed = tuple(k for k, v in zip(rule.keys, rule.values)
                            if all(_category_matches(a, v) for a in atoms)
                            and all(_category_matches(a, k) for a in on_source))
            if not allowed:
                text = " AND ".join(a.to_sql() for a in atoms)
                raise InfeasibleConditionError(
                    f"Condition {text} cannot be met: by the rule {rule.to_sql()} every row's {rule.target!r} "
                    f"comes from its {rule.source!r}, and no {rule.source!r} the condition allows gives such a value.")
            if None not in allowed and len(allowed) < len(rule.keys):
                extra.append(Condition(rule.source, "in", tuple(sorted(allowed, key=lambda v: (type(v).__name__, v)))))
    return ConditionSet(conditions.conditions + tuple(extra), conditions.expressions) if extra else conditions


def _constant_value(tree: exp.Expression) -> Any:
    con = duckdb.connect(":memory:")
    try:
        return con.sql(f"SELECT ({tree.sql(dialect='duckdb')})").fetchall()[0][0]
    finally:
        con.close()


def _interval(node: exp.Expression, ranges: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Bounds of a numeric expression over the columns' ranges (interval arithmetic), or None."""
    if isinstance(node, exp.Paren):
        return _interval(node.this, ranges)
    if isinstance(node, exp.Column):
        return ranges.get(node.name)
    if isinstance(node, exp.Literal) and not node.is_string:
        value = float(node.this)
        return value, value
    if isinstance(node, exp.Neg):
        inner = _interval(node.this, ranges)
        return None if inner is None else (-inner[1], -inner[0])
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        left, right = _interval(node.this, ranges), _interval(node.expression, ranges)
        if left is None or right is None:
            return None
        if isinstance(node, exp.Add):
            return left[0] + right[0], left[1] + right[1]
        if isinstance(node, exp.Sub):
            return left[0] - right[1], left[1] - right[0]
        corners = [a * b for a in left for b in right if math.isfinite(a * b)]
        return (min(corners), max(corners)) if len(corners) == 4 else None
    return None


_NEVER = {exp.GT: lambda l, r: l[1] <= r[0], exp.GTE: lambda l, r: l[1] < r[0],
          exp.LT: lambda l, r: l[0] >= r[1], exp.LTE: lambda l, r: l[0] > r[1],
          exp.EQ: lambda l, r: l[1] < r[0] or r[1] < l[0]}


def _ranges(conditions: ConditionSet, codecs: Sequence[Codec]) -> dict[str, tuple[float, float]]:
    """Each number (or DATE) column's training range, narrowed by the condition's atoms on it."""
    ranges = {}
    for codec in codecs:
        spec = codec.spec
        if not isinstance(codec, NumericCodec) or codec.values_.size == 0:
            continue
        if spec.kind == "datetime" and spec.sql_type.upper() != "DATE":
            continue
        atoms = [a for a in conditions.conditions if a.column == spec.name]
        low, high, _, allow_value = numeric_interval(atoms, codec) if atoms else (-math.inf, math.inf, True, True)
        if not allow_value:
            continue
        ranges[spec.name] = (max(low, float(codec.values_[0])), min(high, float(codec.values_[-1])))
    return ranges


def refuse_impossible(conditions: ConditionSet, model: Any) -> None:
    """Raise InfeasibleConditionError for conjuncts that no row can meet, decided without drawing rows:
    a conjunct naming no column that is not true (``false``, ``1 = 0``, ``NULL``), and a comparison of
    column expressions whose training ranges cannot meet (``score > age`` with scores in [-2, 2] and ages
    in [18, 70]), with the closest comparison the model can meet."""
    ranges = None
    for text in conditions.expressions:
        tree = sqlglot.parse_one(text, read="duckdb")
        if not any(True for _ in tree.find_all(exp.Column)):
            value = _constant_value(tree)
            if value is not True:
                raise InfeasibleConditionError(
                    f"Condition {text} names no column and is {value if value is not None else 'NULL'} (never "
                    "true): no row can meet it. Write a condition over the model's columns, or leave it out.")
            continue
        check = _NEVER.get(type(tree))
        if check is None:
            continue
        if ranges is None:
            ranges = _ranges(conditions, getattr(model, "codecs_", []))
        left, right = _interval(tree.this, ranges), _interval(tree.expression, ranges)
        if left is None or right is None or not check(left, right):
            continue
        lhs, rhs = tree.this.sql(dialect="duckdb"), tree.expression.sql(dialect="duckdb")
        pilot = model.draw_kept(np.arange(8192, dtype=np.int64), np.zeros(8192, dtype=np.int64), 0x5EED_F00D)[0]
        hint = suggest_alternative(ConditionSet((), (text,)), pilot)
        raise InfeasibleConditionError(
            f"Condition {text} cannot be met: in training {lhs} ranges over [{left[0]:g}, {left[1]:g}] and {rhs} "
            f"over [{right[0]:g}, {right[1]:g}].{f' The closest condition this model can meet: {hint}.' if hint else ''}")


_SHIFTED = {exp.GT: (">", 0.99), exp.GTE: (">=", 0.99), exp.LT: ("<", 0.01), exp.LTE: ("<=", 0.01)}


def suggest_alternative(conditions: ConditionSet, table: pa.Table) -> str:
    """For comparisons between columns that no row of ``table`` (model draws) meets, the same comparison
    shifted so that about 1% of the draws meet it (``depth > price - 18000``); '' when there are none."""
    hints = []
    for text in conditions.expressions:
        tree = sqlglot.parse_one(text, read="duckdb")
        shifted = _SHIFTED.get(type(tree))
        if shifted is None or ConditionSet((), (text,)).mask(table).any():
            continue
        lhs, rhs = tree.this.sql(dialect="duckdb"), tree.expression.sql(dialect="duckdb")
        con = duckdb.connect(":memory:")
        try:
            con.register("genesis_pilot", table)
            rows = con.sql(f"SELECT quantile_cont(CAST(({lhs}) - ({rhs}) AS DOUBLE), {shifted[1]}) "
                           "FROM genesis_pilot").fetchall()
        except duckdb.Error:
            continue
        finally:
            con.close()
        gap = rows[0][0] if rows else None
        if gap is None or not math.isfinite(gap):
            continue
        gap = float(f"{gap:.3g}")
        hints.append(f"{lhs} {shifted[0]} {rhs} {'+' if gap >= 0 else '-'} {abs(gap):g}")
    return "; ".join(hints)
