"""The ``synthetic`` schema: one view per model, so that BI tools list models next to tables.

``synthetic.<model>`` is ``SELECT * FROM genesis_generate('<model>', 10000, seed := 0)``. The views are
stored in the served database (the serving process owns it) and kept in step with the catalog: models
fitted or dropped since the last sync gain or lose their view. A query that reads ``synthetic.<model>``
has the view expanded into its definition before pushdown, so a WHERE on the view becomes the
generator's condition.
"""
from __future__ import annotations

import threading

import duckdb
from sqlglot import exp

from genesis_sql.catalog import model_names

SCHEMA = "synthetic"
VIEW_ROWS = 10_000
VIEW_SEED = 0
_sync_lock = threading.Lock()


def view_sql(model: str) -> str:
    """The body of the view of ``model`` (model names are validated identifiers)."""
    return f"SELECT * FROM genesis_generate('{model}', {VIEW_ROWS}, seed := {VIEW_SEED})"


def _existing_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = ? AND database_name = current_database()",
                       [SCHEMA]).fetchall()
    return {r[0] for r in rows}


def sync_synthetic_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create a view per model in schema ``synthetic`` and drop views of dropped models; returns the models."""
    models = model_names(con)
    with _sync_lock:
        existing = _existing_views(con)
        if existing == set(models):
            return models
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for model in sorted(set(models) - existing):
            con.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{model} AS {view_sql(model)}")
        for stale in sorted(existing - set(models)):
            con.execute(f'DROP VIEW IF EXISTS {SCHEMA}."{stale}"')
    return models


def expand_synthetic_views(expression: exp.Expression, models: set[str]) -> exp.Expression:
    """``expression`` with each ``synthetic.<model>`` table replaced by its view body as a subquery."""
    def replace(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Table) and node.db.lower() == SCHEMA and node.name.lower() in models
                and not node.args.get("catalog") and isinstance(node.this, exp.Identifier)):
            alias = node.alias or node.name
            body = exp.maybe_parse(view_sql(node.name.lower()), dialect="duckdb")
            return exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    return expression.transform(replace)
