"""dbt-duckdb plugin: genesis on every connection dbt opens, WHERE pushdown on every model's SQL.

Enable it in ``profiles.yml``::

    outputs:
      dev:
        type: duckdb
        path: warehouse.duckdb
        plugins:
          - module: genesis_sql.dbt

dbt-duckdb calls ``configure_connection`` once for the database connection and ``configure_cursor``
for the cursor of every thread; genesis is installed on the first (idempotent, so a second ``dbt run``
changes nothing). A plugin cannot hand dbt a different cursor object, so the plugin wraps the cursor
dbt-duckdb executes model SQL on (its ``DuckDBCursorWrapper``) in a :class:`~genesis_sql.GenesisConnection`:
``SELECT * FROM genesis_generate('workers', 1000) WHERE age > 50`` in a model then returns 1000 matching
rows, inside dbt's transactions, with the lineage block committed together with the model's table.
"""
from __future__ import annotations

from typing import Any

import duckdb
from dbt.adapters.duckdb.environments import local
from dbt.adapters.duckdb.plugins import BasePlugin

from genesis_sql._install import install
from genesis_sql.connection import GenesisConnection


class PushdownCursor(local.DuckDBCursorWrapper):
    """dbt-duckdb's cursor wrapper with the statements routed through a GenesisConnection."""

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor if isinstance(cursor, GenesisConnection) else GenesisConnection(cursor))


class Plugin(BasePlugin):
    """The ``genesis_sql.dbt`` plugin (see the module docstring)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        local.DuckDBCursorWrapper = PushdownCursor

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        install(conn)
