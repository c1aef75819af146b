"""Rules users declare at fit: ``constraints="death >= diag AND total = a + b"`` in the condition grammar.

Each top-level conjunct becomes the most specific rule kind it matches, so that generation can derive
instead of retry where it may: ``a = b`` (:class:`Equal`), ``a = b + 3`` (:class:`Offset`), ``t = a + b``
or ``t = a - b`` (:class:`Sum`), ``a <= b + k`` and the other comparisons between columns
(:class:`Order`), a comparison of one column with a number (:class:`Bound`); anything else is an
:class:`Expression` checked by DuckDB. A declared rule that training rows break is a FitError that says
how many rows break it.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql.errors import FitError
from genesis_sql.rules.kinds import Bound, Equal, Expression, Offset, Order, Rule, Sum
from genesis_sql.schema import ColumnSpec

_ALLOWED = (exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between,
            exp.In, exp.Is, exp.Like, exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Column,
            exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Abs, exp.Round, exp.Lower, exp.Upper,
            exp.Length, exp.Coalesce, exp.Least, exp.Greatest, exp.Year, exp.Month, exp.Day, exp.Cast,
            exp.DataType, exp.DPipe)


def _conjuncts(tree: exp.Expression) -> list[exp.Expression]:
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.And):
        return _conjuncts(tree.this) + _conjuncts(tree.expression)
    return [tree]


def _number(node: exp.Expression) -> float | None:
    if isinstance(node, exp.Paren):
        return _number(node.this)
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string:
        return float(node.this)
    return None


def _column(node: exp.Expression) -> str | None:
    while isinstance(node, exp.Paren):
        node = node.this
    return node.name if isinstance(node, exp.Column) else None


def _column_plus(node: exp.Expression) -> tuple[str, float] | None:
    """``col``, ``col + k`` or ``col - k`` as (column, k)."""
    name = _column(node)
    if name is not None:
        return name, 0.0
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.Add, exp.Sub)):
        name, k = _column(node.this), _number(node.expression)
        if name is not None and k is not None:
            return name, k if isinstance(node, exp.Add) else -k
        if isinstance(node, exp.Add):
            name, k = _column(node.expression), _number(node.this)
            if name is not None and k is not None:
                return name, k
    return None


def _structured(node: exp.Expression) -> Rule | None:
    """The specific rule kind a conjunct matches, or None."""
    flips = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}
    if type(node) in flips or isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        lhs, rhs = _column_plus(left), _column_plus(right)
        if isinstance(node, exp.EQ):
            name = _column(left)
            if name is not None and rhs is not None:
                return Equal(name, rhs[0], origin="declared") if rhs[1] == 0 else \
                    Offset(name, rhs[0], rhs[1], origin="declared")
            inner = right.unnest() if isinstance(right, exp.Paren) else right
            if name is not None and isinstance(inner, (exp.Add, exp.Sub)):
                first, second = _column(inner.this), _column(inner.expression)
                if first and second:
                    return Sum(name, first, second, 1 if isinstance(inner, exp.Add) else -1, origin="declared")
            value = _number(right)
            if name is not None and value is not None:
                return Bound(name, value, value, origin="declared")
            return None
        if lhs is not None and rhs is not None:
            low, high = (lhs, rhs) if isinstance(node, (exp.LT, exp.LTE)) else (rhs, lhs)
            return Order(low[0], high[0], strict=isinstance(node, (exp.LT, exp.GT)),
                         offset=low[1] - high[1], origin="declared")
        name, value = _column(left), _number(right)
        if name is None:
            name, value = _column(right), _number(left)
            node = flips[type(node)](this=right, expression=left)
        if name is not None and value is not None and not isinstance(node, (exp.LT, exp.GT)):
            return Bound(name, value if isinstance(node, exp.GTE) else None,
                         value if isinstance(node, exp.LTE) else None, origin="declared")
        return None
    if isinstance(node, exp.Between):
        name, low, high = _column(node.this), _number(node.args["low"]), _number(node.args["high"])
        if name is not None and low is not None and high is not None:
            return Bound(name, low, high, origin="declared")
    return None


def parse_constraints(text: str, columns: Sequence[ColumnSpec]) -> list[Rule]:
    """The rules a ``constraints`` text declares, bound to the model's columns.

    Raises:
        FitError: the text is not condition-grammar SQL over the columns.
    """
    if not isinstance(text, str) or not text.strip():
        raise FitError(f"constraints must be condition SQL such as 'death >= diag AND total = a + b'. Got {text!r}.")
    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except SqlglotError as exc:
        raise FitError(f"Cannot parse constraints {text!r}: {str(exc).splitlines()[0]}.") from exc
    if len(statements) != 1:
        raise FitError(f"constraints is one boolean expression; {text!r} has {len(statements)} statements.")
    by_lower = {c.name.lower(): c for c in columns}
    tree = statements[0]
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise FitError(f"constraints {text!r} uses {node.sql(dialect='duckdb')!r}, which the condition "
                           "grammar does not allow (comparisons, arithmetic, AND/OR/NOT over the model's columns).")
        if isinstance(node, exp.Column):
            spec = by_lower.get(node.name.lower())
            if spec is None:
                raise FitError(f"constraints {text!r} names column {node.name!r}, which the training query does not "
                               f"return (columns: {', '.join(c.name for c in columns)}).")
            node.replace(exp.column(spec.name, quoted=True))
    rules = []
    for conjunct in _conjuncts(tree):
        rule = _structured(conjunct)
        if rule is None:
            names = tuple(sorted({c.name for c in conjunct.find_all(exp.Column)}))
            rule = Expression(conjunct.sql(dialect="duckdb"), names, origin="declared")
        rules.append(rule)
    return rules


def check_declared(rules: Sequence[Rule], table: pa.Table) -> None:
    """Raise FitError when training rows break a declared rule (naming how many)."""
    for rule in rules:
        broken = int(np.sum(~rule.holds(table)))
        if broken:
            raise FitError(f"The declared rule {rule.to_sql()} is broken by {broken:,} of {table.num_rows:,} training "
                           "rows; fix the rows, or drop or correct the rule.")
