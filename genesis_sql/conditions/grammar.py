"""Parse condition text and bind conditions to a model's columns, enforcing DESIGN.md's grammar.

The grammar: one boolean expression over the model's columns with comparisons, BETWEEN, IN, IS [NOT]
NULL, LIKE/ILIKE, AND/OR/NOT, arithmetic on columns and literals, and deterministic functions from
:data:`ALLOWED_FUNCTIONS`. Parameters, subqueries, other tables, volatile or unknown functions are
rejected. Text is parsed with sqlglot and rendered again from the tree; it is never spliced.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp
import duckdb
from sqlglot.errors import SqlglotError

from genesis_sql.conditions.condition import Condition, ConditionSet, evaluator
from genesis_sql.errors import ConditionError, ConditionSyntaxError, UnknownColumnError
from genesis_sql.schema import ColumnSpec, output_type

ALLOWED_FUNCTIONS = frozenset({
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Ln", "Log", "Exp", "Pow", "Sign", "Least", "Greatest",
    "Lower", "Upper", "Length", "Trim", "Substring", "Concat", "Coalesce", "StartsWith", "EndsWith",
    "Year", "Month", "Day", "Quarter", "DayOfWeek", "DayOfYear", "Week", "Cast", "TryCast",
})
_STRUCTURE = (
    exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between,
    exp.In, exp.Is, exp.Like, exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Column,
    exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.DataType, exp.DPipe, exp.IntDiv,
)
# Bounds on what one condition may be: longer text or deeper nesting is refused before any work. The
# condition travels with every 2,048-row chunk DuckDB asks for (a 0.9 MB literal overflowed Arrow's
# 2 GiB string buffers after half a minute), and parsing and rendering recurse once per nesting level.
MAX_CONDITION_CHARS = 16_384
MAX_CONDITION_DEPTH = 100
_FLOAT_TYPES = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
_FLIP = {exp.GT: "<", exp.GTE: "<=", exp.LT: ">", exp.LTE: ">=", exp.EQ: "=", exp.NEQ: "!="}
_OPS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "=", exp.NEQ: "!="}


def _shown(text: str) -> str:
    """The condition as quoted in messages, shortened when long."""
    return repr(text) if len(text) <= 200 else f"{text[:100]!r}...({len(text):,} characters)"


def _parse(text: str) -> exp.Expression:
    if not isinstance(text, str) or not text.strip():
        raise ConditionSyntaxError(f"A condition must be non-empty SQL text such as 'age > 50'. Got {text!r}.")
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionSyntaxError(
            f"Condition {_shown(text)} is longer than {MAX_CONDITION_CHARS:,} characters; a condition compares "
            "columns with short values (long lists of values belong in a table joined to the output).")
    try:
        statements = sqlglot.parse(text, read="duckdb")
    except SqlglotError as exc:
        first = str(exc).splitlines()[0]
        raise ConditionSyntaxError(f"Cannot parse condition {_shown(text)}: {first}. Write a SQL boolean expression "
                                   "such as \"age > 50 AND state = 'CA'\".") from exc
    except RecursionError:
        raise ConditionSyntaxError(f"Condition {_shown(text)} is nested too deeply to parse; at most "
                                   f"{MAX_CONDITION_DEPTH} levels of parentheses and operators.") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise ConditionSyntaxError(f"A condition is one boolean expression; {_shown(text)} has {len(statements)} "
                                   "statements.")
    return statements[0]


def _depth(tree: exp.Expression) -> int:
    """The nesting depth of a parse tree, counted without recursion."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


def _check_nodes(tree: exp.Expression, text: str) -> None:
    if _depth(tree) > MAX_CONDITION_DEPTH:
        raise ConditionSyntaxError(f"Condition {_shown(text)} is nested more than {MAX_CONDITION_DEPTH} levels deep "
                                   "(parentheses, NOTs or chained operators); write it flatter.")
    for node in tree.walk():
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            raise ConditionSyntaxError(f"Condition {_shown(text)} uses a parameter ({node.sql()}); write the value "
                                       "itself.")
        if isinstance(node, (exp.Subquery, exp.Select, exp.Query, exp.Table, exp.Exists)):
            raise ConditionSyntaxError(f"Condition {_shown(text)} uses a subquery or another table; only the model's "
                                       "own columns may appear.")
        if isinstance(node, _STRUCTURE):
            continue
        if isinstance(node, exp.Func) and type(node).__name__ not in ALLOWED_FUNCTIONS:
            name = node.sql_name() if not isinstance(node, exp.Anonymous) else node.name
            raise ConditionSyntaxError(
                f"Function {name.lower()}() is not allowed in a condition (volatile or unknown). Allowed: "
                f"{', '.join(sorted(f.lower() for f in ALLOWED_FUNCTIONS))}.")
        if not isinstance(node, exp.Func):
            used = node.sql(dialect="duckdb")
            raise ConditionSyntaxError(f"Condition {_shown(text)} uses {used!r}, which is outside "
                                       "the condition grammar (comparisons, BETWEEN, IN, IS NULL, LIKE, AND/OR/NOT, "
                                       "arithmetic, allow-listed functions).")


def _resolve(name: str, columns: Sequence[ColumnSpec]) -> ColumnSpec:
    by_lower = {c.name.lower(): c for c in columns}
    spec = by_lower.get(name.lower())
    if spec is None:
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=3)
        hint = f" Did you mean {', '.join(repr(by_lower[c].name) for c in close)}?" if close else ""
        raise UnknownColumnError(f"Condition names unknown column {name!r}.{hint} "
                                 f"The model's columns: {', '.join(c.name for c in columns)}.")
    return spec


def _qualify_columns(tree: exp.Expression, columns: Sequence[ColumnSpec]) -> exp.Expression:
    """Replace every column reference with the model's spelling, quoted, without table qualifiers."""
    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return exp.column(_resolve(node.name, columns).name, quoted=True)
        return node
    return tree.transform(rewrite)


def _literal_value(node: exp.Expression) -> tuple[bool, Any]:
    """(True, value) when ``node`` is a constant literal."""
    if isinstance(node, exp.Neg):
        ok, value = _literal_value(node.this)
        return (ok and isinstance(value, (int, float)) and not isinstance(value, bool)), (-value if ok else None)
    if isinstance(node, exp.Paren):
        return _literal_value(node.this)
    if isinstance(node, exp.Boolean):
        return True, node.this
    if isinstance(node, exp.Null):
        return True, None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return True, node.this
        text = node.this
        try:
            return True, int(text)
        except ValueError:
            return True, float(text)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        kind = node.to.this
        if kind in _FLOAT_TYPES:  # how literal() writes infinite numbers
            try:
                number = float(node.this.this)
            except ValueError:
                return False, None
            return (not math.isnan(number)), (number if not math.isnan(number) else None)
        if kind == exp.DataType.Type.DATE:
            return True, dt.date.fromisoformat(node.this.this)
        if kind in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME):
            return True, dt.datetime.fromisoformat(node.this.this)
    return False, None


def _atom(node: exp.Expression) -> Condition | None:
    """The conjunct as a :class:`Condition` atom, when it has the shape ``column <op> literal``."""
    negated = isinstance(node, exp.Not)
    inner = node.this if negated else node
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Is) and isinstance(inner.this, exp.Column) and isinstance(inner.expression, exp.Null):
        return Condition(inner.this.name, "is_not_null" if negated else "is_null")
    if isinstance(inner, exp.In) and isinstance(inner.this, exp.Column) and inner.expressions and not inner.args.get("query"):
        values = [_literal_value(v) for v in inner.expressions]
        if all(ok for ok, _ in values) and all(v is not None for _, v in values):
            return Condition(inner.this.name, "not_in" if negated else "in", tuple(v for _, v in values))
        return None
    if isinstance(inner, (exp.Like, exp.ILike)) and isinstance(inner.this, exp.Column):
        ok, value = _literal_value(inner.expression)
        if ok and isinstance(value, str) and not inner.args.get("escape"):
            op = ("ilike" if isinstance(inner, exp.ILike) else "like")
            negated = negated != bool(inner.args.get("negate"))
            return Condition(inner.this.name, f"not_{op}" if negated else op, value)
        return None
    if negated:
        return None
    if isinstance(inner, exp.Between) and isinstance(inner.this, exp.Column):
        (ok1, low), (ok2, high) = _literal_value(inner.args["low"]), _literal_value(inner.args["high"])
        if ok1 and ok2 and low is not None and high is not None:
            return Condition(inner.this.name, "between", (low, high))
        return None
    if type(inner) in _OPS:
        left, right = inner.this, inner.expression
        if isinstance(left, exp.Column):
            ok, value = _literal_value(right)
            op = _OPS[type(inner)]
        elif isinstance(right, exp.Column):
            ok, value = _literal_value(left)
            op, left = _FLIP[type(inner)], right
        else:
            return None
        if ok and value is not None:
            return Condition(left.name, op, value)
    return None


def split_conjuncts(tree: exp.Expression) -> list[exp.Expression]:
    """The top-level AND operands of a boolean expression (parentheses looked through)."""
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.And):
        return split_conjuncts(tree.this) + split_conjuncts(tree.expression)
    return [tree]


_NUMERIC_KINDS = ("numeric", "integer")


def _check_value(spec: ColumnSpec, value: Any, condition: Condition) -> Any:
    """The value converted to the column's domain, or a ConditionError saying what would fit."""
    if value is None:
        return value
    if isinstance(value, tuple):
        checked = {_check_value(spec, v, condition) for v in value}
        if condition.operator in ("in", "not_in"):  # order and repeats do not matter: one canonical list
            return tuple(sorted(checked, key=lambda v: (type(v).__name__, v)))
        return tuple(_check_value(spec, v, condition) for v in value)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if condition.operator in ("like", "not_like", "ilike", "not_ilike"):
        if spec.kind in ("categorical", "text", "id") and isinstance(value, str):
            return value
        raise ConditionError(f"LIKE needs a text column and a text pattern; {spec.name!r} is {spec.kind}.")
    if spec.kind in _NUMERIC_KINDS:
        if is_number:
            return value
        raise ConditionError(f"Column {spec.name!r} is {spec.kind}: compare it with a number, not {value!r}.")
    if spec.kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ConditionError(f"Column {spec.name!r} is boolean: compare it with true or false, not {value!r}.")
    if spec.kind == "datetime":
        if isinstance(value, (dt.date, dt.datetime)):
            return value
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError as exc:
                raise ConditionError(f"Column {spec.name!r} is a date/time: use an ISO date such as '2001-02-03', "
                                     f"not {value!r}.") from exc
            return parsed.date() if spec.sql_type.upper() == "DATE" and len(value) <= 10 else parsed
        raise ConditionError(f"Column {spec.name!r} is a date/time: use an ISO date such as '2001-02-03', not {value!r}.")
    if spec.kind in ("categorical", "id") and spec.sql_type.upper() not in ("VARCHAR", "UUID"):
        if is_number:
            return value
        raise ConditionError(f"Column {spec.name!r} holds numbers ({spec.sql_type}): compare it with a number, "
                             f"not {value!r}.")
    if isinstance(value, str):
        return value
    raise ConditionError(f"Column {spec.name!r} holds text: compare it with a quoted string, not {value!r}.")


def bind(conditions: ConditionSet, columns: Sequence[ColumnSpec]) -> ConditionSet:
    """Check a condition set against a model's columns and return its canonical form.

    Raises:
        UnknownColumnError: a column is not in the model.
        ConditionError: a value does not fit its column's type.
    """
    atoms = []
    for condition in conditions.conditions:
        spec = _resolve(condition.column, columns)
        if condition.operator not in ("is_null", "is_not_null", "between", "in", "not_in", "like", "not_like",
                                      "ilike", "not_ilike", "=", "!=", "<", "<=", ">", ">="):
            raise ConditionError(f"Unknown operator {condition.operator!r}.")
        bound = Condition(spec.name, condition.operator, condition.value)
        atoms.append(Condition(spec.name, condition.operator, _check_value(spec, condition.value, bound)))
    expressions = []
    for text in conditions.expressions:
        tree = _parse(text)
        _check_nodes(tree, text)
        expressions.append(_qualify_columns(tree, columns).sql(dialect="duckdb"))
    bound = ConditionSet(tuple(atoms), tuple(expressions))
    canonical = bound.to_sql()
    if len(canonical) > MAX_CONDITION_CHARS:
        raise ConditionSyntaxError(f"The condition {_shown(canonical)} is longer than {MAX_CONDITION_CHARS:,} "
                                   "characters; a condition compares columns with short values.")
    _check_types(bound.expressions, columns)
    return bound


def _check_types(expressions: Sequence[str], columns: Sequence[ColumnSpec]) -> None:
    """Let DuckDB bind each expression over the model's column types, before any row is made: unknown
    function signatures (``year(<number>)``) and conditions that are not true/false (a bare column, a
    string) are refused here, with DuckDB's own words, instead of failing in the middle of generation."""
    if not expressions:
        return
    fields = ", ".join(f"CAST(NULL AS {output_type(c.sql_type)}) AS {exp.to_identifier(c.name, quoted=True).sql()}"
                       for c in columns)
    for sql in expressions:
        try:
            result_type = str(evaluator().sql(f"SELECT ({sql}) FROM (SELECT {fields}) AS genesis_columns").types[0])
        except duckdb.Error as exc:
            raise ConditionError(f"Condition {_shown(sql)} does not fit the model's column types: "
                                 f"{str(exc).splitlines()[0]}") from exc
        if result_type != "BOOLEAN":
            raise ConditionSyntaxError(f"Condition {_shown(sql)} gives {result_type} values, not true or false; "
                                       "compare them, e.g. \"carat > 1\" rather than \"carat\".")


def parse_condition(text: str, columns: Sequence[ColumnSpec]) -> ConditionSet:
    """Parse condition SQL into its canonical, bound :class:`ConditionSet`.

    Example:
        >>> parse_condition("2 < carat AND cut = 'Ideal'", cols).to_sql()   # doctest: +SKIP
        '("carat" > 2) AND ("cut" = \\'Ideal\\')'
    """
    tree = _parse(text)
    _check_nodes(tree, text)
    tree = _qualify_columns(tree, columns)
    atoms, expressions = [], []
    for conjunct in split_conjuncts(tree):
        atom = _atom(conjunct)
        if atom is not None:
            atoms.append(atom)
        else:
            expressions.append(conjunct.sql(dialect="duckdb"))
    return bind(ConditionSet(tuple(atoms), tuple(expressions)), columns)
