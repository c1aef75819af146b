"""genesis-sql: synthetic data as a SQL citizen.

A model fitted on real rows becomes something you query like a table inside DuckDB::

    import duckdb, genesis_sql
    con = duckdb.connect("shop.duckdb")
    genesis_sql.install(con)
    genesis_sql.fit(con, "customers", "SELECT * FROM raw_customers")
    con.sql("SELECT * FROM genesis_generate('customers', 1000, seed := 42)")
"""
from __future__ import annotations

from typing import Any

from genesis_sql._install import install
from genesis_sql._version import __version__
from genesis_sql.api import FitSummary, fit, generate, generate_stream, plan
from genesis_sql.conditions import Condition, ConditionBuilder, ConditionSet
from genesis_sql.connection import GenesisConnection, connect
from genesis_sql.errors import GenesisError

__all__ = [
    "Condition",
    "ConditionBuilder",
    "ConditionSet",
    "FitSummary",
    "GenesisConnection",
    "GenesisError",
    "ask",
    "connect",
    "evaluate",
    "export_model",
    "fit",
    "generate",
    "generate_stream",
    "import_model",
    "install",
    "plan",
    "prompt_context",
]


def __getattr__(name: str) -> Any:
    """``evaluate`` is imported on first use: the quality metrics pull in scikit-learn and SciPy's
    statistics, a second or more that fitting and generating do not need. ``ask`` and ``prompt_context``
    likewise (the natural-language parser is not needed to fit or generate), and ``export_model`` /
    ``import_model`` (portable model files)."""
    if name == "evaluate":
        from genesis_sql.quality import evaluate

        return evaluate
    if name == "ask":
        from genesis_sql.nl.ask import ask

        return ask
    if name == "prompt_context":
        from genesis_sql.nl.prompt import prompt_context

        return prompt_context
    if name in ("export_model", "import_model"):
        from genesis_sql.distributed import portable

        return getattr(portable, name)
    raise AttributeError(f"module 'genesis_sql' has no attribute {name!r}")
