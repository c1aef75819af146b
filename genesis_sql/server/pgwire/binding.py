"""Bound parameters become typed literals in the statement before pushdown.

Each ``$n`` placeholder token of a statement is replaced by a literal built from the decoded value (a
number, a quoted string, a boolean, NULL, or a typed cast for dates and timestamps). The value never
passes into SQL as raw text: sqlglot renders the literal, quoting and escaping it, so a string parameter
cannot end the literal it sits in. Placeholders are found with sqlglot's tokenizer, so ``'$1'`` inside a
string or a comment is left alone, and the rest of the statement keeps its exact text (Postgres syntax
that sqlglot cannot parse, such as catalog queries, still binds).
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


def bind_text(sql: str, values: list[object]) -> str:
    """``sql`` with each ``$n`` placeholder token replaced by the literal of ``values[n-1]``.

    Raises:
        ValueError: a placeholder has no value, or the statement cannot be tokenized.
    """
    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except SqlglotError as exc:
        raise ValueError(f"cannot read the statement's placeholders: {exc}") from exc
    pieces, last = [], 0
    for before, after in zip(tokens, tokens[1:]):
        if (before.token_type == TokenType.PARAMETER and after.token_type == TokenType.NUMBER
                and after.text.isdigit() and after.start == before.end + 1):
            index = int(after.text)
            if not 1 <= index <= len(values):
                raise ValueError(f"there is no parameter ${index} ({len(values)} bound)")
            text = literal(values[index - 1]).sql(dialect="duckdb")
            # A negative number after an operator would read as a comment ("- -5" vs "--5").
            pieces += [sql[last:before.start], f"({text})" if text.startswith("-") else text]
            last = after.end + 1
    pieces.append(sql[last:])
    return "".join(pieces)
