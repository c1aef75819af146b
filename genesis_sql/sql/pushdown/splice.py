"""Write pushed conditions into the user's text: only the generator calls change, the rest stays as written.

Re-rendering a whole statement from sqlglot's tree would also rewrite what sqlglot reads differently
from DuckDB (``BETWEEN SYMMETRIC``, a parse error in DuckDB, came back as valid SQL). Instead the text is
tokenized, each ``genesis_generate(`` call is found in reading order, and a call that takes a condition
gets it in place: its ``condition := '...'`` literal replaced, or ``, condition := '...'`` added before
its closing parenthesis.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from genesis_sql.sql.pushdown._state import GENERATOR


@dataclass(frozen=True)
class CallSpan:
    """Where one generator call sits in the text (inclusive offsets)."""

    start: int
    close: int  # the closing parenthesis
    condition: tuple[int, int] | None  # the string literal given as ``condition :=``, if any


def _span(tokens: list[Token], at: int) -> CallSpan | None:
    depth, condition = 0, None
    for i in range(at + 1, len(tokens)):
        kind = tokens[i].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return CallSpan(tokens[at].start, tokens[i].start, condition)
        elif (depth == 1 and kind == TokenType.VAR and tokens[i].text.lower() == "condition"
              and i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.COLON_EQ
              and tokens[i + 2].token_type == TokenType.STRING):
            condition = (tokens[i + 2].start, tokens[i + 2].end)
    return None


def generator_calls(text: str) -> list[CallSpan] | None:
    """Every ``genesis_generate(...)`` call of ``text`` in reading order; None if the text does not tokenize."""
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    calls = []
    for i, token in enumerate(tokens[:-1]):
        if token.text.lower() == GENERATOR and tokens[i + 1].token_type == TokenType.L_PAREN:
            span = _span(tokens, i)
            if span is None:
                return None
            calls.append(span)
    return calls


def splice_conditions(text: str, conditions: dict[int, str]) -> str:
    """``text`` with the generator call at each index given its condition (every other byte kept)."""
    calls = generator_calls(text) or []
    edits = []
    for index, condition in conditions.items():
        call = calls[index]
        literal = exp.Literal.string(condition).sql(dialect="duckdb")
        if call.condition is not None:
            edits.append((call.condition[0], call.condition[1] + 1, literal))
        else:
            edits.append((call.close, call.close, f", condition := {literal}"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text
