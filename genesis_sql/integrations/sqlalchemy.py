"""SQLAlchemy: ``duckdb+genesis:///path.duckdb`` URLs, for pools, pandas ``read_sql`` and BI inspection.

The dialect is duckdb_engine's with one change: each pooled connection is a
:class:`~genesis_sql.GenesisConnection` (genesis installed, WHERE pushdown on, bound parameters pushed
with their values), so ``pandas.read_sql("... genesis_generate('m', 1000) WHERE age > :age", engine,
params=...)`` returns 1000 matching rows. Registered as the entry point ``sqlalchemy.dialects:
duckdb.genesis``; URL query items are DuckDB settings (``?threads=2``). duckdb_engine's own
connect-time extras (``preload_extensions``, ``register_filesystems``) are not offered here.

A writable connection keeps one view per model in the schema ``synthetic`` (``synthetic.<model>``, the
same views ``genesis serve`` shows BI tools), so that an inspector lists the models beside the tables and
a WHERE on such a view is pushed like one on ``genesis_generate``.
"""
from __future__ import annotations

from typing import Any

from duckdb_engine import ConnectionWrapper, Dialect

from genesis_sql.connection import connect
from genesis_sql.server.pgwire.synthetic import sync_synthetic_views


class GenesisDialect(Dialect):
    """duckdb_engine's dialect over genesis connections."""

    driver = "genesis"
    supports_statement_cache = False

    def connect(self, *cargs: Any, **cparams: Any) -> ConnectionWrapper:
        database = cparams.get("database") or ":memory:"
        config = {**cparams.get("config", {}), **cparams.get("url_config", {})}
        read_only = bool(config.pop("read_only", cparams.get("read_only", False)))
        genesis = connect(database, read_only=read_only, **config)
        if not read_only:
            sync_synthetic_views(genesis.duckdb_connection)
        return ConnectionWrapper(genesis)
