"""The ``synthetic`` schema: one view per model, so that BI tools list models next to tables.

``synthetic.<model>`` is ``SELECT * FROM genesis_generate('<model>', 10000, seed := 0)``. The views are
stored in the served database (the serving process owns it) and kept in step with the catalog: models
fitted or dropped since the last sync gain or lose their view. Pushdown inlines views over
``genesis_generate`` (``genesis_sql.sql.pushdown.inline_views``), so a WHERE on the view becomes the
generator's condition.
"""
from __future__ import annotations

import threading

import duckdb
from genesis_sql.catalog import model_names

SCHEMA = "synthetic"
VIEW_ROWS = 10_000
VIEW_SEED = 0
_sync_lock = threading.Lock()


def view_sql(model: str) -> str:
    """The body of the view of ``model`` (model names are validated identifiers)."""
    return f"SELECT * FROM genesis_generate('{model}', {VIEW_ROWS}, seed := {VIEW_SEED})"


def _existing_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT view_name FROM duckdb_views() "
                       "WHERE schema_name = ? AND database_name = current_database()", [SCHEMA]).fetchall()
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
