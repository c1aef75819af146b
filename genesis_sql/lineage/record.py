"""The recorders that fitting, generating and evaluating call, so that lineage is recorded automatically.

Each appends to the chain of the connection's database, signed with the key named by
``GENESIS_LINEAGE_KEY`` when it is set. Inside an open transaction on ``con`` (the caller's ``BEGIN``, or
the one a fit keeps its model in) the blocks join it, so they commit or roll back with the data they
describe; otherwise they are appended in a transaction of their own. Callers hand over plain data
(:class:`GenerationFacts`): lineage does not know the planner.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from genesis_sql._db import in_transaction
from genesis_sql.errors import LineageNotRecordedWarning
from genesis_sql.lineage import drafts, store
from genesis_sql.lineage.block import BlockDraft, LineageBlock
from genesis_sql.lineage.fingerprint import RowsFingerprint, table_fingerprint
from genesis_sql.lineage.signing import Signer

if TYPE_CHECKING:
    from genesis_sql.catalog import ModelRecord


@dataclass(frozen=True)
class GenerationFacts:
    """What a generation block says about the request: model version, n, seed, canonical condition."""

    model: str
    version: int
    content_hash: str
    n: int
    seed: int | None
    conditions: str


def _facts(generation: Any) -> GenerationFacts:
    """``generation`` as GenerationFacts (a generation plan passes its own fields)."""
    if isinstance(generation, GenerationFacts):
        return generation
    return GenerationFacts(model=generation.name, version=generation.version, content_hash=generation.content_hash,
                           n=generation.n, seed=generation.seed, conditions=generation.condition_sql)


def _append(con: duckdb.DuckDBPyConnection, *blocks: BlockDraft) -> list[LineageBlock]:
    signer = Signer.from_env()
    if in_transaction(con):
        return store.append_in_transaction(con, blocks, signer=signer)
    return store.append(con, blocks, signer=signer)


def record_fit(con: duckdb.DuckDBPyConnection, record: ModelRecord,
               source_rows: RowsFingerprint) -> tuple[LineageBlock, LineageBlock]:
    """Record a stored model version: a source block and a fit block, appended together.

    The source block holds the training query's text, row count and rows fingerprint (``source_rows``,
    computed inside DuckDB by the fit on its own connection); the fit block holds the model version,
    method, content hash, parameter hash, training row count and the source block's id. Called inside the
    transaction that stores the model, so the model never exists without its blocks.
    """
    source = drafts.source_draft(name=record.name, query=record.source_sql, fingerprint=source_rows,
                                 model=record.name).with_id()
    fit = drafts.fit_draft(model=record.name, version=record.version, method=record.method,
                           content_hash=record.content_hash, parameters=record.parameters,
                           training_rows=record.training_rows, source_block=source.block_id,
                           fit_seconds=record.fit_seconds, training_fingerprint=record.source_fingerprint,
                           holdout=record.holdout)
    source_block, fit_block = _append(con, source, fit)
    return source_block, fit_block


def record_generation(con: duckdb.DuckDBPyConnection, generation: GenerationFacts | Any,
                      rows: pa.Table | RowsFingerprint, *, destination: str) -> LineageBlock | None:
    """Record materialised output: the request, the rows (fingerprinted inside DuckDB) and where they went.

    On a database open read-only nothing can be written: the block is skipped with a
    :class:`~genesis_sql.errors.LineageNotRecordedWarning` and None is returned (the output itself stands).

    Args:
        con: A connection to the database that holds the model.
        generation: The request as :class:`GenerationFacts` (or a generation plan, which has those fields).
        rows: The output as an Arrow table, or its fingerprint when it was written elsewhere (for a file,
            ``query_fingerprint(con, "SELECT * FROM 'out.parquet'")``).
        destination: Where the rows went: ``"python"``, a file path, a table name.
    """
    facts = _facts(generation)
    from genesis_sql.catalog import is_read_only

    if is_read_only(con):  # the rows are made; the block has nowhere to go
        warnings.warn(f"The database is open read-only: the generation of {facts.model}@{facts.version} "
                      f"({facts.n:,} rows to {destination}) is not recorded in genesis.lineage.",
                      LineageNotRecordedWarning, stacklevel=2)
        return None
    fingerprint = rows if isinstance(rows, RowsFingerprint) else table_fingerprint(con, rows)
    draft = drafts.generation_draft(model=facts.model, version=facts.version, content_hash=facts.content_hash,
                                    n=facts.n, seed=facts.seed, conditions=facts.conditions,
                                    fingerprint=fingerprint, destination=destination)
    return _append(con, draft)[0]


def record_quality(con: duckdb.DuckDBPyConnection, *, run_id: str, model: str, version: int,
                   metrics: Mapping[str, Any], passed: bool | None) -> LineageBlock:
    """Record a stored quality run: its id, the model version it judged, headline metrics and the verdict."""
    return _append(con, drafts.quality_draft(metrics, passed, model=model, version=version, run_id=run_id))[0]
