"""SQL registration: ``genesis_lineage_verify()``, a table macro over a Python UDF returning one STRUCT row.

DuckDB's Python API has no table functions, so ``udfs/lineage.sql`` wraps the scalar UDF
``genesis_lineage_verify_row(checkpoint, trusted_key)`` in a table macro that unnests its STRUCT. The UDF
reads the chain through a fresh cursor of the connection it was registered on, because a UDF cannot run
statements on the connection that is executing the query.
"""
from __future__ import annotations

import duckdb

from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.signing import trusted_key
from genesis_sql._db import cursor as open_cursor
from genesis_sql.sql.functions import replace_function

FUNCTION = "genesis_lineage_verify_row"
RESULT = {"ok": "BOOLEAN", "blocks": "BIGINT", "first_bad_block": "VARCHAR", "reason": "VARCHAR"}


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the verification UDF on ``con`` (install is idempotent)."""

    def verify_row(checkpoint: str | None, key: str | None) -> dict[str, object]:
        cursor = open_cursor(con)
        try:
            report = LineageChain(cursor).verify(
                trusted_key=trusted_key(key),
                checkpoint=Checkpoint.load(checkpoint) if checkpoint is not None else None,
            )
        finally:
            cursor.close()
        return report.as_dict()

    replace_function(con, FUNCTION, verify_row, ["VARCHAR", "VARCHAR"], duckdb.struct_type(RESULT))
