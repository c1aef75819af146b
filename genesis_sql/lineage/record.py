"""The recorders that fitting, generating and evaluating call, so that lineage is recorded automatically.

Each appends to the chain of the connection's database, signed with the key named by
``GENESIS_LINEAGE_KEY`` when it is set. A recorder runs after the data it describes is committed; a crash
in between leaves a valid chain that simply lacks that block.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from genesis_sql.errors import LineageNotRecordedWarning
from genesis_sql.lineage import drafts
from genesis_sql.lineage.block import LineageBlock
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.fingerprint import RowsFingerprint, query_fingerprint, table_fingerprint

if TYPE_CHECKING:
    from genesis_sql._plan import GenerationPlan
    from genesis_sql.catalog import ModelRecord


def record_fit(con: duckdb.DuckDBPyConnection, record: ModelRecord,
               source_rows: RowsFingerprint) -> tuple[LineageBlock, LineageBlock]:
    """Record a stored model version: a source block and a fit block, appended together.

    The source block holds the training query's text, row count and rows fingerprint (``source_rows``,
    computed inside DuckDB by the fit on its own connection); the fit block holds the model version,
    method, content hash, parameter hash, training row count and the source block's id.
    """
    fingerprint = source_rows
    source = drafts.source_draft(name=record.name, query=record.source_sql, fingerprint=fingerprint,
                                 model=record.name).with_id()
    fit = drafts.fit_draft(model=record.name, version=record.version, method=record.method,
                           content_hash=record.content_hash, parameters=record.parameters,
                           training_rows=record.training_rows, source_block=source.block_id,
                           fit_seconds=record.fit_seconds, training_fingerprint=record.source_fingerprint,
                           holdout=record.holdout)
    source_block, fit_block = LineageChain.from_env(con).append(source, fit)
    return source_block, fit_block


def record_generation(con: duckdb.DuckDBPyConnection, plan: GenerationPlan, rows: pa.Table | RowsFingerprint, *,
                      destination: str) -> LineageBlock | None:
    """Record materialised output of ``plan``: the rows (fingerprinted inside DuckDB) and where they went.

    On a database open read-only nothing can be written: the block is skipped with a
    :class:`~genesis_sql.errors.LineageNotRecordedWarning` and None is returned (the output itself stands).

    Args:
        con: A connection to the database that holds the model.
        plan: The validated request (model version, n, seed, canonical condition).
        rows: The output as an Arrow table, or its fingerprint when it was written elsewhere (for a file,
            ``query_fingerprint(con, "SELECT * FROM 'out.parquet'")``).
        destination: Where the rows went: ``"python"``, a file path, a table name.
    """
    from genesis_sql.catalog import is_read_only

    if is_read_only(con):  # the rows are made; the block has nowhere to go
        warnings.warn(f"The database is open read-only: the generation of {plan.ref} ({plan.n:,} rows to "
                      f"{destination}) is not recorded in genesis.lineage.", LineageNotRecordedWarning, stacklevel=2)
        return None
    fingerprint = rows if isinstance(rows, RowsFingerprint) else table_fingerprint(con, rows)
    return LineageChain.from_env(con).add_generation_block(
        model=plan.name, version=plan.version, content_hash=plan.content_hash, n=plan.n, seed=plan.seed,
        conditions=plan.condition_sql, fingerprint=fingerprint, destination=destination)


def record_quality(con: duckdb.DuckDBPyConnection, *, run_id: str, model: str, version: int,
                   metrics: Mapping[str, Any], passed: bool | None) -> LineageBlock:
    """Record a stored quality run: its id, the model version it judged, headline metrics and the verdict."""
    return LineageChain.from_env(con).add_quality_check(metrics, passed, model=model, version=version, run_id=run_id)
