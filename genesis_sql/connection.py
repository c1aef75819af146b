"""GenesisConnection: a DuckDB connection that pushes WHERE clauses into ``genesis_generate``."""
from __future__ import annotations

import json
from typing import Any

import duckdb

from genesis_sql._db import connect_with_retry
from genesis_sql._install import install
from genesis_sql._materialise import record_materialised
from genesis_sql.catalog import parse_model_ref
from genesis_sql.errors import GenesisError
from genesis_sql.schema import ColumnSpec
from genesis_sql.sql.pushdown import Rewrite, rewrite


class GenesisConnection:
    """Behaves like ``duckdb.DuckDBPyConnection`` (``sql``, ``execute``, ``fetch*``, ``cursor``, ``close``,
    context manager, and every other attribute by delegation) and rewrites queries that read from
    ``genesis_generate(...)`` so that their WHERE conjuncts become the generator's condition.

    Example:
        >>> gcon = genesis_sql.connect("shop.duckdb")                                   # doctest: +SKIP
        >>> gcon.sql("SELECT * FROM genesis_generate('customers', 1000) WHERE age > 50")  # doctest: +SKIP
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @property
    def duckdb_connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (queries on it are not rewritten)."""
        return self._con

    def _columns_of(self, ref: str) -> list[ColumnSpec] | None:
        try:
            name, version = parse_model_ref(ref)
        except GenesisError:
            return None
        where, params = ("name = ? AND version = ?", [name, version]) if version else (
            "name = ? ORDER BY version DESC LIMIT 1", [name])
        rows = self._con.execute(f"SELECT columns FROM genesis.models WHERE {where}", params).fetchall()
        return [ColumnSpec.from_dict(c) for c in json.loads(rows[0][0])] if rows else None

    def rewrite(self, query: str) -> Rewrite:
        """The pushdown rewrite of ``query`` (nothing is run)."""
        return rewrite(query, self._columns_of)

    def explain(self, query: str) -> str:
        """The rewritten SQL, the ConditionSet pushed into each generator, and what was not pushed and why."""
        return self.rewrite(query).explain()

    def sql(self, query: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyRelation | None:
        """Like ``DuckDBPyConnection.sql``, with pushdown (and lineage for COPY / CREATE TABLE AS)."""
        plan = self.rewrite(query)
        relation = self._con.sql(plan.sql, *args, **kwargs)
        record_materialised(self._con, plan.expression)
        return relation

    query = sql

    def execute(self, query: str, parameters: Any = None) -> GenesisConnection:
        """Like ``DuckDBPyConnection.execute``, with pushdown; returns this connection for fetching."""
        plan = self.rewrite(query)
        if parameters is None:
            self._con.execute(plan.sql)
        else:
            self._con.execute(plan.sql, parameters)
        record_materialised(self._con, plan.expression)
        return self

    def cursor(self) -> GenesisConnection:
        """A new cursor, also with pushdown."""
        from genesis_sql._db import cursor

        return GenesisConnection(cursor(self._con))

    def close(self) -> None:
        """Close the underlying connection."""
        self._con.close()

    def __enter__(self) -> GenesisConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def connect(path: str = ":memory:", *, read_only: bool = False, **duckdb_config: Any) -> GenesisConnection:
    """Open (or create) a DuckDB database with genesis installed and WHERE pushdown on.

    Args:
        path: the database file, or ``":memory:"``.
        read_only: open read-only (one writable install must have set the catalog up before).
        **duckdb_config: DuckDB configuration options, e.g. ``threads=2``.
    """
    con = connect_with_retry(path, read_only=read_only, config=duckdb_config or None)
    install(con)
    return GenesisConnection(con)
