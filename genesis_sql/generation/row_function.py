"""The DuckDB face of generation: one Arrow-vectorized row function per stored model version.

DuckDB calls a row function with one BIGINT per row: the plan id (the plan the planner kept in the runtime,
handed over by identity) in the high bits and the row index in the low ROW_BITS. One argument, because
DuckDB converts every argument of every 2,048-row chunk to Arrow while it holds Python's interpreter lock:
with five (the seed, condition and n beside them) two DuckDB threads made rows at 1.1x one thread's rate,
with one at 1.4-1.7x. The rows come from :mod:`genesis_sql.generation.batches`.

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
from genesis_sql.errors import GenesisError, ModelNotFoundError
from genesis_sql.generation.batches import BlockCache, plain_columns, struct_rows
from genesis_sql.generation.plan import MAX_ROWS, GenerationPlan, cached_synthesizer, plan_generation
from genesis_sql.generation.runtime import MAX_PLAN_ID, RUNTIME
from genesis_sql.models._columns import arrow_type
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec, output_type

ROW_FUNCTION_PREFIX = "genesis_rows_"
# Bits of a row function's argument that hold the row index; the plan id is above them.
ROW_BITS = 37
ROW_MASK = (1 << ROW_BITS) - 1
assert MAX_ROWS <= ROW_MASK and MAX_PLAN_ID < 1 << (63 - ROW_BITS)
_blocks = BlockCache()


def row_function_name(content_hash: str) -> str:
    """The row UDF of one model version (named by content, so a name is never reused for other content)."""
    return f"{ROW_FUNCTION_PREFIX}{content_hash[:16]}"


def _struct_type(columns: list[ColumnSpec]) -> duckdb.DuckDBPyType:
    fields = ", ".join(f"{quoted(c.name)} {output_type(c.sql_type)}" for c in columns)
    return duckdb.type(f"STRUCT({fields})")


def row_argument(plan_id: int, scan_column: str = "range") -> str:
    """The SQL of the row function's argument for the rows ``scan_column`` numbers."""
    return f"{scan_column} + CAST({plan_id << ROW_BITS} AS BIGINT)"


def _version_of(con: duckdb.DuckDBPyConnection, content_hash: str) -> tuple[str, int]:
    rows = con.execute("SELECT name, version FROM genesis.models WHERE content_hash = ? LIMIT 1",
                       [content_hash]).fetchall()
    if not rows:
        raise ModelNotFoundError(f"The model version with content {content_hash[:16]} was dropped while in use.")
    return rows[0][0], int(rows[0][1])


def register_model(con: duckdb.DuckDBPyConnection, content_hash: str, columns: list[ColumnSpec]) -> str:
    """Register the row function of one model version in ``con``'s database (once); returns its name."""
    name = row_function_name(content_hash)

    def make(database: Database, entity_rows: bool) -> Callable:
        def plan_of(plan_id: int) -> tuple[GenerationPlan, BaseSynthesizer]:
            known = RUNTIME.plan(plan_id)
            if known is not None:
                return known
            # The plan aged out of the runtime (a prepared statement run long after it was bound): rebuild it
            # from what it was made of.
            request = RUNTIME.plan_request(plan_id)
            if request is None:
                raise GenesisError("This statement's generation plan is no longer known (the statement was "
                                   "prepared long ago); prepare or run it again.")
            reference = "{}@{}".format(*database.run(lambda cursor: _version_of(cursor, content_hash)))
            return database.run(lambda cursor: plan_generation(cursor, reference, request.n, seed=request.seed,
                                                               condition=request.condition or None))

        return _row_function(entity_rows, plan_of, columns)

    database = RUNTIME.functions.database(con)
    with database.lock:
        if name not in database.functions:
            model = RUNTIME.peek_synthesizer(content_hash)
            entity_rows = model.entity_rows if model is not None else _loaded_entity_rows(con, content_hash)
            row_type = duckdb.list_type(_struct_type(columns)) if entity_rows else _struct_type(columns)
            # Inside an open transaction only a function created in it is visible to it.
            register_function(con, name, lambda database: make(database, entity_rows), ["BIGINT"], row_type,
                              type="arrow", null_handling="default", in_transaction=in_transaction(con))
    return name


def _loaded_entity_rows(con: duckdb.DuckDBPyConnection, content_hash: str) -> bool:
    name, version = _version_of(con, content_hash)
    return cached_synthesizer(con, name, version, content_hash).entity_rows


def _row_function(entity_rows: bool, plan_of: Callable[[int], tuple[GenerationPlan, BaseSynthesizer]],
                  columns: list[ColumnSpec]) -> Callable:
    names = [c.name for c in columns]
    types = [arrow_type(output_type(c.sql_type)) for c in columns]

    def rows(argument: pa.Array) -> pa.Array:
        if len(argument) == 0:
            empty = pa.StructArray.from_arrays([pa.array([], t) for t in types], names=names)
            return pa.ListArray.from_arrays(pa.array([0], pa.int32()), empty) if entity_rows else empty
        values = argument.to_numpy(zero_copy_only=False)
        head = int(values[0])
        plan, model = plan_of(head >> ROW_BITS)
        # DuckDB's scans hand over ascending runs of rows; the check is a byte comparison, since a numpy
        # operation would let go of the interpreter lock and wait to get it back from the other threads.
        if not entity_rows and values.tobytes() == np.arange(head, head + values.size, dtype=np.int64).tobytes():
            return _blocks.rows(plan, model, head & ROW_MASK, values.size)
        # Rows asked for one by one; or a sequence model, whose indices count entities of several rows each.
        table = plain_columns(model.sample_rows(values & ROW_MASK, key=plan.key, conditions=plan.conditions))
        struct = struct_rows(table)
        return pa.ListArray.from_arrays(pa.array(model.entity_offsets(table)), struct) if entity_rows else struct

    return rows
