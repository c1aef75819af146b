"""WHERE pushdown: a WHERE on a generator is a request for a sub-population, not a filter.

The rewriter is a pipeline of small rules over a sqlglot tree (dialect duckdb), in the manner of
sqlglot's optimizer: each rule takes the :class:`Rewrite` and returns it. Before the rules, views over
generators that the query reads are inlined and ``?`` placeholders numbered; bound parameters are
pushed with their values. Queries without a generator come back byte-identical; otherwise only the
generator calls of the text change (they get a ``condition :=``) and the original WHERE stays, so
results are always correct.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.pushdown._state import GENERATOR, QUERY, Pushed, Rewrite, Skipped
from genesis_sql.sql.pushdown.classify_conjuncts import classify_conjuncts
from genesis_sql.sql.pushdown.find_generators import find_generators
from genesis_sql.sql.pushdown.inline_views import inline_views, view_body
from genesis_sql.sql.pushdown.map_sources import map_sources
from genesis_sql.sql.pushdown.parameters import Parameters, number_placeholders
from genesis_sql.sql.pushdown.push_conjuncts import push_conjuncts
from genesis_sql.sql.pushdown.splice import generator_calls

RULES: tuple[Callable[[Rewrite], Rewrite], ...] = (
    find_generators,
    map_sources,
    classify_conjuncts,
    push_conjuncts,
)
ViewsOf = Callable[[], Mapping[tuple[str, str], str]]


def _single_statement(sql: str) -> bool:
    """Whether DuckDB itself reads ``sql`` as exactly one statement (a syntax error is DuckDB's to report)."""
    try:
        return len(duckdb.extract_statements(sql)) == 1
    except duckdb.Error:
        return False


def _nested(tree: exp.Expression, columns_of: Callable[[str], list[ColumnSpec] | None],
            views_of: ViewsOf | None) -> list[tuple[str, Rewrite]]:
    """The rewrite of each ``genesis_query('...')`` text in the query, for explain."""
    found = []
    for call in tree.find_all(exp.Anonymous):
        args = call.expressions
        if call.name.lower() == QUERY and args and isinstance(args[0], exp.Literal) and args[0].is_string:
            found.append((args[0].this, rewrite(args[0].this, columns_of, views_of=views_of)))
    return found


def rewrite(sql: str, columns_of: Callable[[str], list[ColumnSpec] | None], *,
            parameters: Parameters | None = None, views_of: ViewsOf | None = None) -> Rewrite:
    """Push WHERE conjuncts of ``sql`` into its ``genesis_generate`` calls (see :func:`_rewrite`); text nested
    too deeply for the parser's recursion is left as it is, for DuckDB to run or reject."""
    try:
        return _rewrite(sql, columns_of, parameters=parameters, views_of=views_of)
    except RecursionError:
        return Rewrite(sql, None, columns_of)


def _rewrite(sql: str, columns_of: Callable[[str], list[ColumnSpec] | None], *,
             parameters: Parameters | None = None, views_of: ViewsOf | None = None) -> Rewrite:
    """Push WHERE conjuncts of ``sql`` into its ``genesis_generate`` calls.

    Args:
        sql: one DuckDB statement (anything else comes back unchanged, for DuckDB to run or reject).
        columns_of: the columns of a model reference (``'m'`` or ``'m@2'``), None when unknown.
        parameters: the values bound to the statement's ``?`` / ``$n`` (a sequence) or ``$name`` (a mapping).
        views_of: the views whose definition reads a generator, ``(schema, name) -> SELECT``; called only
            when the statement has a WHERE.

    Returns:
        The :class:`Rewrite`: ``.sql`` to run, ``.pushed`` and ``.skipped`` for explain.
    """
    lowered = sql.lower()
    text, views = sql, []
    if views_of is not None and "where" in lowered:
        known = views_of()
        if known and any(name in lowered for _, name in known):
            text, views = inline_views(sql, known)
    if GENERATOR not in text.lower() and QUERY not in lowered:
        return Rewrite(sql, None, columns_of)
    if not _single_statement(text):
        return Rewrite(sql, None, columns_of)
    try:
        statements = sqlglot.parse(number_placeholders(text), read="duckdb")
    except SqlglotError:
        return Rewrite(sql, None, columns_of)
    if len(statements) != 1 or statements[0] is None:
        return Rewrite(sql, None, columns_of)
    expression = statements[0]
    calls = generator_calls(text)
    written = [c for c in expression.find_all(exp.Anonymous) if c.name.lower() == GENERATOR]
    if calls is None or len(calls) != len(written):
        return Rewrite(sql, None, columns_of)  # the text and its parse disagree: change nothing
    result = Rewrite(sql, expression, columns_of, text=text, parameters=parameters, views=views)
    if QUERY in lowered:
        result.nested = _nested(expression, columns_of, views_of)
    for rule in RULES:
        result = rule(result)
    return result


__all__ = ["RULES", "Pushed", "Rewrite", "Skipped", "inline_views", "rewrite", "view_body"]
