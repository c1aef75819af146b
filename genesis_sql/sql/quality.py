"""The SQL face of quality evaluation: the Python function behind the ``genesis_evaluate`` macro.

Python UDFs take no named parameters, so ``udfs/quality.sql`` wraps this function in the macro
``genesis_evaluate(model, real_sql, n := NULL, target := NULL, holdout_sql := NULL)``. The UDF runs its
statements through a fresh cursor of its database: a UDF cannot run statements on the connection
executing the query that called it. It lives outside ``genesis_sql.quality`` and imports it
when first called, so that installing genesis does not import the metrics (scikit-learn, SciPy's
statistics: a second or more of every CLI command).
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._functions import Database, python_name, register_function

FUNCTION = python_name("genesis_evaluate")


def _evaluate_sql(database: Database) -> Callable[[str, str, str, str, str], str]:
    def genesis_evaluate(model: str, real_sql: str, n: str, target: str, holdout_sql: str) -> str:
        from genesis_sql.errors import EvaluationError
        from genesis_sql.quality._api import evaluate
        from genesis_sql.sql.statements import validate_query

        validate_query(real_sql, what="real query", allow_files=False, error=EvaluationError)
        if holdout_sql is not None:
            validate_query(holdout_sql, what="holdout query", allow_files=False, error=EvaluationError)
        with database.connection() as cursor:
            return evaluate(cursor, model, real_sql, n=n, target=target, holdout_sql=holdout_sql).run_id

    return genesis_evaluate


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the evaluation function in ``con``'s database (once per process)."""
    register_function(con, FUNCTION, _evaluate_sql, ["VARCHAR"] * 5, "VARCHAR")
