"""``genesis_query(sql)``: one SELECT, given as text, run with WHERE pushdown in any connection.

A plain connection cannot rewrite the queries it runs, but it can run a table macro over ``query()``
(udfs/query.sql), exactly like ``genesis_generate``. DuckDB evaluates the planner function while it
binds the statement, so ``CREATE TABLE AS``, ``CREATE VIEW``, CTEs and ``count(*)`` all see the
rewritten query. The text must be one read-only SELECT without file access (``sql/statements.py``),
because servers, BI tools and dbt models hand it over.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._functions import Database, python_name, register_function
from genesis_sql.sql.pushdown import Rewrite, rewrite
from genesis_sql.sql.pushdown.catalog import generator_views, model_columns
from genesis_sql.sql.statements import validate_query

FUNCTION = python_name("genesis_query")


def plan_query(con: duckdb.DuckDBPyConnection, sql: object) -> Rewrite:
    """Validate ``sql`` as a genesis_query text and push its WHERE into its generators (nothing is run)."""
    statement = validate_query(sql, what="genesis_query text", allow_files=False)
    return rewrite(statement, lambda ref: model_columns(con, ref), views_of=lambda: generator_views(con))


def _planner(database: Database) -> Callable[[str], str]:
    def genesis_query(sql: str) -> str:
        return database.run(lambda cursor: plan_query(cursor, sql).sql)

    return genesis_query


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the planner behind ``genesis_query`` in ``con``'s database (once per process)."""
    register_function(con, FUNCTION, _planner, ["VARCHAR"], "VARCHAR")
