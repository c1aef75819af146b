"""Bound parameters (``?``, ``$1``, ``$name``) pushed with their values.

A conjunct such as ``age > ?`` can reach the generator once the value bound to ``?`` is known: the
value becomes a literal in the pushed condition tree (never text spliced into SQL), while the user's
WHERE keeps its placeholder and DuckDB binds the same value there. ``?`` placeholders are numbered in
reading order first (DuckDB numbers them so), which makes every placeholder a ``$n`` or ``$name``.
"""
from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

Parameters = Sequence[Any] | Mapping[str, Any]


def number_placeholders(text: str) -> str:
    """``text`` with each ``?`` placeholder written ``$1``, ``$2``, ... in reading order (for parsing only)."""
    if "?" not in text:
        return text
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return text
    marks = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    for number, token in reversed(list(enumerate(marks, start=1))):
        text = text[:token.start] + f"${number}" + text[token.end + 1:]
    return text


def _literal(value: Any) -> exp.Expression | None:
    """A sqlglot literal for a Python parameter value, or None when it has no exact literal."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.Literal.number(repr(value)) if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return exp.Literal.number(str(value)) if value.is_finite() else None
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return None


def _value(placeholder: exp.Placeholder, parameters: Parameters) -> tuple[bool, Any]:
    key = placeholder.name
    if isinstance(parameters, Mapping):
        return (key in parameters, parameters.get(key))
    if key.isdigit() and 1 <= int(key) <= len(parameters):
        return True, parameters[int(key) - 1]
    return False, None


def bind(conjunct: exp.Expression, parameters: Parameters | None) -> tuple[exp.Expression | None, str]:
    """``conjunct`` with every placeholder replaced by its value's literal; (None, reason) when it cannot be."""
    placeholders = list(conjunct.find_all(exp.Placeholder, exp.Parameter))
    if not placeholders:
        return conjunct, ""
    if parameters is None:
        return None, "prepared-statement parameter with no value given"
    values = {}
    for node in placeholders:
        known, value = _value(node, parameters) if isinstance(node, exp.Placeholder) else (False, None)
        literal = _literal(value) if known else None
        if literal is None:
            what = "no value given" if not known else f"a {type(value).__name__} value has no exact SQL literal"
            return None, f"prepared-statement parameter ({what})"
        values[node.name] = literal

    def replace(node: exp.Expression) -> exp.Expression:
        return values[node.name].copy() if isinstance(node, exp.Placeholder) else node

    return conjunct.copy().transform(replace), ""
