"""SQL registration: ``genesis_lineage_verify()``, a table macro over a Python UDF returning one STRUCT row.

DuckDB's Python API has no table functions, so ``udfs/lineage.sql`` wraps the scalar UDF (named
``python_name("genesis_lineage_verify")``) in a table macro that unnests its STRUCT. The UDF reads the
chain through a fresh cursor of its database, because a UDF cannot run statements on the connection that
is executing the query.
"""
from __future__ import annotations

import duckdb

from genesis_sql._functions import Database, python_name, register_function
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.signing import trusted_key

FUNCTION = python_name("genesis_lineage_verify")
RESULT = {"ok": "BOOLEAN", "blocks": "BIGINT", "first_bad_block": "VARCHAR", "reason": "VARCHAR"}


def _verifier(database: Database):
    def verify_row(checkpoint: str | None, key: str | None) -> dict[str, object]:
        return database.run(lambda cursor: LineageChain(cursor).verify(
            trusted_key=trusted_key(key),
            checkpoint=Checkpoint.load(checkpoint) if checkpoint is not None else None,
        ).as_dict())

    return verify_row


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the verification UDF in ``con``'s database (once per process)."""
    register_function(con, FUNCTION, _verifier, ["VARCHAR", "VARCHAR"], duckdb.struct_type(RESULT))
