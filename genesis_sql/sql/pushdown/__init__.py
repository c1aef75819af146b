"""WHERE pushdown: a WHERE on a generator is a request for a sub-population, not a filter.

The rewriter is a pipeline of small rules over a sqlglot tree (dialect duckdb), in the manner of
sqlglot's optimizer: each rule takes the :class:`Rewrite` and returns it. Queries without a generator
come back byte-identical; otherwise the pushed conjuncts are added to the generator's ``condition``
and the original WHERE stays, so results are always correct.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot.errors import SqlglotError

from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.pushdown._state import GENERATOR, Pushed, Rewrite, Skipped
from genesis_sql.sql.pushdown.classify_conjuncts import classify_conjuncts
from genesis_sql.sql.pushdown.find_generators import find_generators
from genesis_sql.sql.pushdown.map_sources import map_sources
from genesis_sql.sql.pushdown.push_conjuncts import push_conjuncts

RULES: tuple[Callable[[Rewrite], Rewrite], ...] = (
    find_generators,
    map_sources,
    classify_conjuncts,
    push_conjuncts,
)


def rewrite(sql: str, columns_of: Callable[[str], list[ColumnSpec] | None]) -> Rewrite:
    """Push WHERE conjuncts of ``sql`` into its ``genesis_generate`` calls.

    Args:
        sql: one or more DuckDB statements.
        columns_of: the columns of a model reference (``'m'`` or ``'m@2'``), None when unknown.

    Returns:
        The :class:`Rewrite`: ``.sql`` to run, ``.pushed`` and ``.skipped`` for explain.
    """
    if GENERATOR not in sql.lower():
        return Rewrite(sql, None, columns_of)
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except SqlglotError:
        return Rewrite(sql, None, columns_of)  # let DuckDB report its own syntax error
    if len(statements) != 1 or statements[0] is None:
        return Rewrite(sql, None, columns_of)
    result = Rewrite(sql, statements[0], columns_of)
    for rule in RULES:
        result = rule(result)
    return result


__all__ = ["RULES", "Pushed", "Rewrite", "Skipped", "rewrite"]
