"""Bound parameters become typed literals in the parse tree before pushdown.

A statement parsed with ``$1 .. $n`` placeholders is bound by replacing each placeholder node with a
literal built from the decoded value (a number, a quoted string, a boolean, NULL, or a typed cast for
dates and timestamps). The value never passes through SQL text on its own: sqlglot renders the literal,
quoting and escaping it, so a string parameter cannot end the literal it sits in.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

_PLACEHOLDER = re.compile(r"\$(\d+)")


def parameter_count(sql: str) -> int:
    """The highest ``$n`` in ``sql`` (0 when it has none), ignoring text inside quotes and comments."""
    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except SqlglotError:
        return max((int(m) for m in _PLACEHOLDER.findall(sql)), default=0)
    numbers = [int(after.text) for before, after in zip(tokens, tokens[1:])
               if before.token_type == TokenType.PARAMETER and after.token_type == TokenType.NUMBER
               and after.text.isdigit()]
    return max(numbers, default=0)


def literal(value: object) -> exp.Expression:
    """The SQL literal of one parameter value."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return exp.Literal.number(repr(value))
        return exp.cast(exp.Literal.string("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")), "DOUBLE")
    if isinstance(value, decimal.Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.Literal.string(str(value))


def bind(expression: exp.Expression, values: list[object]) -> exp.Expression:
    """A copy of ``expression`` with placeholder ``$i`` replaced by the literal of ``values[i-1]``.

    Raises:
        ValueError: a placeholder has no value.
    """
    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            name = str(node.name or node.this or "").lstrip("$:")
            if name.isdigit():
                index = int(name)
                if not 1 <= index <= len(values):
                    raise ValueError(f"there is no parameter ${index} ({len(values)} bound)")
                return literal(values[index - 1])
        return node

    return expression.copy().transform(replace)
