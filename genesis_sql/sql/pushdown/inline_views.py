"""Views over ``genesis_generate`` keep the pushdown: a view read by the query is replaced by its body.

``CREATE VIEW w AS SELECT * FROM genesis_generate('m', 1000)`` then ``SELECT * FROM w WHERE age > 50``:
DuckDB expands the view after any rewriting could happen, so the WHERE would filter. Replacing the
reference ``w`` by ``(<w's SELECT>) AS w`` in the text lets the usual rules see the generator through a
subquery. Only views whose definition reads a generator are inlined, only where the query reads them,
and a view over such a view is inlined in turn (to a bounded depth).
"""
from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

MAX_DEPTH = 8


def view_body(create_sql: str) -> str | None:
    """The SELECT of a ``CREATE VIEW name AS SELECT ...`` text; None for a view with a column list."""
    try:
        tokens = sqlglot.tokenize(create_sql, read="duckdb")
    except SqlglotError:
        return None
    seen_view = False
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.VIEW:
            seen_view = True
        elif seen_view and token.token_type == TokenType.L_PAREN:
            return None
        elif seen_view and token.token_type == TokenType.ALIAS:
            return create_sql[token.end + 1:].strip().rstrip(";").strip() if i + 1 < len(tokens) else None
    return None


def _read_views(tree: exp.Expression, views: Mapping[tuple[str, str], str]) -> list[exp.Table]:
    """The table references of ``tree`` that read one of ``views`` (not CTE names, not write targets)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.args.get("catalog"):
            continue
        schema, name = (table.db or "main").lower(), table.name.lower()
        if (schema, name) not in views or (not table.db and name in ctes):
            continue
        if table.find_ancestor(exp.Select, exp.Subquery, exp.Union) is None:
            continue
        found.append(table)
    return found


def _span(table: exp.Table) -> tuple[int, int] | None:
    parts = [p for p in (table.args.get("db"), table.this) if isinstance(p, exp.Identifier)]
    if not all("start" in p.meta for p in parts):
        return None
    return min(p.meta["start"] for p in parts), max(p.meta["end"] for p in parts)


def inline_views(text: str, views: Mapping[tuple[str, str], str]) -> tuple[str, list[str]]:
    """``text`` with every read of a view in ``views`` ((schema, name) -> SELECT body) replaced by its body.

    Returns the new text and the names of the views inlined; the text unchanged when none is read or
    it does not parse.
    """
    inlined: list[str] = []
    for _ in range(MAX_DEPTH):
        try:
            tree = sqlglot.parse_one(text, read="duckdb")
        except SqlglotError:
            return text, inlined
        edits = []
        for table in _read_views(tree, views):
            span = _span(table)
            if span is None:
                continue
            schema, name = (table.db or "main").lower(), table.name.lower()
            alias = "" if table.args.get("alias") else " AS " + exp.to_identifier(table.name, quoted=True).sql("duckdb")
            edits.append((span[0], span[1] + 1, f"({views[(schema, name)]}\n){alias}"))
            inlined.append(table.sql(dialect="duckdb"))
        if not edits:
            break
        for start, end, replacement in sorted(edits, reverse=True):
            text = text[:start] + replacement + text[end:]
    return text, list(dict.fromkeys(inlined))
