"""The DuckDB face of generation: one Arrow-vectorized row function per stored model version.

DuckDB calls a row function with a plan id (the plan the planner kept in the runtime, handed over by
identity), the seed, canonical condition and n the plan was made of (to rebuild it if it aged out of the
runtime), and a chunk of row indices; the rows come from :mod:`genesis_sql.generation.batches`.

A row function must exist before the query that uses it is bound (a function registered during the
binding is not visible to that query's transaction), so it is registered when a version is fitted and, for
every stored version, at install; the planner registers it too, for versions stored by other means.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa

from genesis_sql._db import in_transaction
from genesis_sql._functions import Database, quoted, register_function
from genesis_sql.errors import ModelNotFoundError
from genesis_sql.generation.batches import BlockCache
from genesis_sql.generation.plan import GenerationPlan, cached_synthesizer, plan_generation
from genesis_sql.generation.runtime import RUNTIME
from genesis_sql.models._columns import arrow_type
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec, output_type

ROW_FUNCTION_PREFIX = "genesis_rows_"
PARAMETERS = ["BIGINT", "BIGINT", "VARCHAR", "BIGINT", "BIGINT"]
_blocks = BlockCache()


def row_function_name(content_hash: str) -> str:
    """The row UDF of one model version (named by content, so a name is never reused for other content)."""
    return f"{ROW_FUNCTION_PREFIX}{content_hash[:16]}"


def _struct_type(columns: list[ColumnSpec]) -> duckdb.DuckDBPyType:
    fields = ", ".join(f"{quoted(c.name)} {output_type(c.sql_type)}" for c in columns)
    return duckdb.type(f"STRUCT({fields})")


def _version_of(con: duckdb.DuckDBPyConnection, content_hash: str) -> tuple[str, int]:
    rows = con.execute("SELECT name, version FROM genesis.models WHERE content_hash = ? LIMIT 1",
                       [content_hash]).fetchall()
    if not rows:
        raise ModelNotFoundError(f"The model version with content {content_hash[:16]} was dropped while in use.")
    return rows[0][0], int(rows[0][1])


def register_model(con: duckdb.DuckDBPyConnection, content_hash: str, columns: list[ColumnSpec]) -> str:
    """Register the row function of one model version in ``con``'s database (once); returns its name."""
    name = row_function_name(content_hash)

    def make(database: Database) -> Callable:
        def loaded() -> BaseSynthesizer:
            return RUNTIME.synthesizer(content_hash, lambda: database.run(
                lambda cursor: cached_synthesizer(cursor, *_version_of(cursor, content_hash), content_hash)))

        def plan_of(plan_id: int, seed: int, condition: str, n: int) -> tuple[GenerationPlan, BaseSynthesizer]:
            known = RUNTIME.plan(plan_id)
            if known is not None:
                return known
            # The plan aged out of the runtime (a prepared statement run long after it was bound): the SQL
            # carries what it was made of.
            reference = "{}@{}".format(*database.run(lambda cursor: _version_of(cursor, content_hash)))
            return database.run(lambda cursor: plan_generation(cursor, reference, n, seed=seed,
                                                               condition=condition or None))

        return _row_function(loaded, plan_of, columns)

    database = RUNTIME.functions.database(con)
    with database.lock:
        if name not in database.functions:
            model = RUNTIME.peek_synthesizer(content_hash)
            entity_rows = model.entity_rows if model is not None else _loaded_entity_rows(con, content_hash)
            row_type = duckdb.list_type(_struct_type(columns)) if entity_rows else _struct_type(columns)
            # Inside an open transaction only a function created in it is visible to it.
            register_function(con, name, make, PARAMETERS, row_type, type="arrow", null_handling="default",
                              in_transaction=in_transaction(con))
    return name


def _loaded_entity_rows(con: duckdb.DuckDBPyConnection, content_hash: str) -> bool:
    name, version = _version_of(con, content_hash)
    return cached_synthesizer(con, name, version, content_hash).entity_rows


def _row_function(loaded: Callable[[], BaseSynthesizer],
                  plan_of: Callable[[int, int, str, int], tuple[GenerationPlan, BaseSynthesizer]],
                  columns: list[ColumnSpec]) -> Callable:
    names = [c.name for c in columns]
    types = [arrow_type(output_type(c.sql_type)) for c in columns]

    def rows(plan_id: pa.Array, seed: pa.Array, condition: pa.Array, total: pa.Array,
             index: pa.Array) -> pa.Array:
        entity_rows = loaded().entity_rows
        if len(index) == 0:
            empty = pa.StructArray.from_arrays([pa.array([], t) for t in types], names=names)
            return pa.ListArray.from_arrays(pa.array([0], pa.int32()), empty) if entity_rows else empty
        plan, model = plan_of(plan_id[0].as_py(), seed[0].as_py(), condition[0].as_py() or "", total[0].as_py())
        indices = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)
        table = _blocks.rows(plan, model, indices)
        struct = pa.StructArray.from_arrays([_one_array(column) for column in table.columns], names=names)
        return pa.ListArray.from_arrays(pa.array(model.entity_offsets(table)), struct) if entity_rows else struct

    return rows


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array (a block's slice already is one: no copy then)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
