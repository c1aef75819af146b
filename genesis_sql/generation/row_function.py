"""The DuckDB face of generation: Arrow-vectorized functions per stored model version, which the planner's
SQL calls (see :mod:`genesis_sql.generation.row_source` for which it scans).

- The block function (models of independent rows) takes the first and one past the last row of blocks
  and returns each block's rows as a list, to be unnested: one call per block of about BLOCK_ROWS rows.
- The row function takes row numbers and returns a row for each (a list of rows per entity for sequence
  models), in DuckDB's chunks of 2,048.

Each takes one BIGINT with the plan id (the plan the planner kept in the runtime, handed over by identity)
in the high bits and the (first) row in the low ROW_BITS; the block function takes the end of the block
beside it. DuckDB converts a Python function's arguments and result while it holds Python's interpreter
lock, once per call, so what the threads of a query can do side by side depends on how few calls there
are: on diamonds two DuckDB threads served rows at 1.1x one thread's rate with five arguments a row (the
seed, condition and n beside them), 1.2-1.6x with one, and 1.6-2.0x with a call per block. The rows come
from :mod:`genesis_sql.generation.batches`.

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
from genesis_sql.generation.batches import BlockCache, plain_columns, row_blocks, struct_rows
from genesis_sql.generation.plan import MAX_ROWS, GenerationPlan, cached_synthesizer, plan_generation
from genesis_sql.generation.runtime import MAX_PLAN_ID, RUNTIME
from genesis_sql.models._columns import arrow_type
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec, output_type

ROW_FUNCTION_PREFIX = "genesis_rows_"
BLOCK_FUNCTION_PREFIX = "genesis_blocks_"
# Bits of a row function's argument that hold the row index; the plan id is above them.
ROW_BITS = 37
ROW_MASK = (1 << ROW_BITS) - 1
assert MAX_ROWS <= ROW_MASK and MAX_PLAN_ID < 1 << (63 - ROW_BITS)
_blocks = BlockCache()


def row_function_name(content_hash: str) -> str:
    """The row UDF of one model version (named by content, so a name is never reused for other content)."""
    return f"{ROW_FUNCTION_PREFIX}{content_hash[:16]}"


def block_function_name(content_hash: str) -> str:
    """The block UDF of one model version of independent rows."""
    return f"{BLOCK_FUNCTION_PREFIX}{content_hash[:16]}"


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
    """Register the row function of one model version in ``con``'s database, and the block function of a
    model of independent rows (each once); returns the row function's name."""
    name = row_function_name(content_hash)

    def plans(database: Database) -> Callable[[int], tuple[GenerationPlan, BaseSynthesizer]]:
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

        return plan_of

    database = RUNTIME.functions.database(con)
    with database.lock:
        if name not in database.functions:
            model = RUNTIME.peek_synthesizer(content_hash)
            entity_rows = model.entity_rows if model is not None else _loaded_entity_rows(con, content_hash)
            rows_type = duckdb.list_type(_struct_type(columns))
            # Inside an open transaction only a function created in it is visible to it.
            options = {"type": "arrow", "null_handling": "default", "in_transaction": in_transaction(con)}
            if not entity_rows:
                register_function(con, block_function_name(content_hash),
                                  lambda database: _block_function(plans(database), columns), ["BIGINT", "BIGINT"],
                                  rows_type, **options)
            register_function(con, name, lambda database: _row_function(entity_rows, plans(database), columns),
                              ["BIGINT"], rows_type if entity_rows else _struct_type(columns), **options)
    return name


def _loaded_entity_rows(con: duckdb.DuckDBPyConnection, content_hash: str) -> bool:
    name, version = _version_of(con, content_hash)
    return cached_synthesizer(con, name, version, content_hash).entity_rows


def _block_function(plan_of: Callable[[int], tuple[GenerationPlan, BaseSynthesizer]],
                    columns: list[ColumnSpec]) -> Callable:
    empty = _empty_rows(columns)

    def blocks(firsts: pa.Array, ends: pa.Array) -> pa.ListArray:
        if len(firsts) == 0:
            return pa.ListArray.from_arrays(pa.array([0], pa.int32()), empty)
        values = firsts.to_numpy(zero_copy_only=False)
        plan, model = plan_of(int(values[0]) >> ROW_BITS)
        return row_blocks(plan, model, values & ROW_MASK, ends.to_numpy(zero_copy_only=False))

    return blocks


def _empty_rows(columns: list[ColumnSpec]) -> pa.StructArray:
    return pa.StructArray.from_arrays([pa.array([], arrow_type(output_type(c.sql_type))) for c in columns],
                                      names=[c.name for c in columns])


def _row_function(entity_rows: bool, plan_of: Callable[[int], tuple[GenerationPlan, BaseSynthesizer]],
                  columns: list[ColumnSpec]) -> Callable:
    empty = _empty_rows(columns)

    def rows(argument: pa.Array) -> pa.Array:
        if len(argument) == 0:
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
