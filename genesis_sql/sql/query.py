"""``genesis_query(sql)``: one SELECT, given as text, run with WHERE pushdown in any connection.

A plain connection cannot rewrite the queries it runs, but it can run a table macro over ``query()``
(udfs/query.sql), exactly like ``genesis_generate``. DuckDB evaluates ``genesis_query_plan`` while it
binds the statement, so ``CREATE TABLE AS``, ``CREATE VIEW``, CTEs and ``count(*)`` all see the
rewritten query. The text must be one read-only SELECT without file access (``sql/statements.py``),
because servers, BI tools and dbt models hand it over.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._db import cursor as open_cursor
from genesis_sql.sql.functions import replace_function
from genesis_sql.sql.pushdown import Rewrite, rewrite
from genesis_sql.sql.pushdown.catalog import generator_views, model_columns
from genesis_sql.sql.statements import validate_query

FUNCTION = "genesis_query_plan"


def plan_query(con: duckdb.DuckDBPyConnection, sql: object) -> Rewrite:
    """Validate ``sql`` as a genesis_query text and push its WHERE into its generators (nothing is run)."""
    statement = validate_query(sql, what="genesis_query text", allow_files=False)
    return rewrite(statement, lambda ref: model_columns(con, ref), views_of=lambda: generator_views(con))


def _plan_sql(con: duckdb.DuckDBPyConnection) -> Callable[[str], str]:
    def genesis_query_plan(sql: str) -> str:
        cursor = open_cursor(con)
        try:
            return plan_query(cursor, sql).sql
        finally:
            cursor.close()

    return genesis_query_plan


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register ``genesis_query_plan`` on ``con``, replacing an earlier registration (idempotent)."""
    replace_function(con, FUNCTION, _plan_sql(con), ["VARCHAR"], "VARCHAR")
