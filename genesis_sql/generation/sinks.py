"""Where generated batches go: one Arrow table in memory, and the lineage block that records them.

Lineage gets plain data (model version, n, seed, canonical condition, the rows' fingerprint): it does not
know the planner.
"""
from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from genesis_sql.generation.plan import GenerationPlan
from genesis_sql.lineage.fingerprint import RowsFingerprint
from genesis_sql.lineage.record import GenerationFacts, record_generation


def to_table(batches: Iterable[pa.Table], schema: pa.Schema) -> pa.Table:
    """The batches as one contiguous Arrow table (an empty one of ``schema`` when there are none)."""
    tables = list(batches)
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables).combine_chunks()


def facts(plan: GenerationPlan) -> GenerationFacts:
    """What lineage records about a plan."""
    return GenerationFacts(model=plan.name, version=plan.version, content_hash=plan.content_hash, n=plan.n,
                           seed=plan.seed, conditions=plan.condition_sql)


def record(con: duckdb.DuckDBPyConnection, plan: GenerationPlan, rows: pa.Table | RowsFingerprint, *,
           destination: str) -> None:
    """Record a generation block for rows of ``plan`` that went to ``destination`` (in ``con``'s transaction
    when one is open)."""
    record_generation(con, facts(plan), rows, destination=destination)
