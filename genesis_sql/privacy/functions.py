"""SQL functions of the privacy budget: ``genesis_privacy_budget_limit(source, epsilon)`` sets a source's
limit; ``genesis_privacy_budget()`` (a macro over the ledger, udfs/privacy.sql) shows spent and limits."""
from __future__ import annotations

from collections.abc import Callable

import duckdb

from genesis_sql._functions import Database, python_name, register_function
from genesis_sql.privacy.ledger import set_limit

LIMIT = python_name("genesis_privacy_budget_limit")


def _limiter(database: Database) -> Callable[[str, float], str]:
    def genesis_privacy_budget_limit(source: str, epsilon: float) -> str:
        limit = database.run(lambda cursor: set_limit(cursor, source, epsilon))
        return f"privacy budget limit of {source} set to epsilon {limit:g}"

    return genesis_privacy_budget_limit


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the limit setter in ``con``'s database (once per process)."""
    register_function(con, LIMIT, _limiter, ["VARCHAR", "DOUBLE"], "VARCHAR")
