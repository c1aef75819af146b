"""The genesis functions DuckDB sees: the planner UDF behind ``genesis_generate``, ``genesis_fit``,
``genesis_drop``, ``genesis_last_seed`` and one Arrow-vectorized row UDF per stored model version.

``genesis_generate`` is a table macro (udfs/generate.sql) over ``query(genesis_plan(...))``. DuckDB
evaluates ``genesis_plan`` while binding, so every argument is validated (and may raise) even for
``count(*)`` or ``EXPLAIN``. The SQL it returns scans ``range(n)`` through the model's row UDF, which
DuckDB calls once per contiguous chunk; rows are seeded per row index, so chunking never changes them.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from genesis_sql._db import cursor as open_cursor
from genesis_sql._plan import cached_synthesizer, last_seed, peek_synthesizer, plan_generation
from genesis_sql.catalog import drop_model, list_versions
from genesis_sql.conditions import parse_condition
from genesis_sql.errors import CatalogError, ModelNotFoundError
from genesis_sql.models._columns import arrow_type
from genesis_sql.models._random import derive_key
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec, output_type

ROW_FUNCTION_PREFIX = "genesis_rows_"
# DuckDB asks for 2048 rows at a time; the row UDF makes this many at once and serves the chunks from
# them, because generating in bigger batches is several times cheaper per row.
BLOCK_ROWS = 16_384
# Blocks made lately, shared by every thread. DuckDB's threads may hand the UDF chunks of different blocks
# in turn; a single slot per thread then remade a whole block for every 2,048-row chunk (8x the work).
BLOCK_CACHE_SIZE = 8
_blocks: OrderedDict[tuple, pa.StructArray] = OrderedDict()
_blocks_lock = threading.Lock()
log = logging.getLogger(__name__)


def row_function_name(content_hash: str) -> str:
    """The row UDF of one model version (named by content, so a name is never reused for other content)."""
    return f"{ROW_FUNCTION_PREFIX}{content_hash[:16]}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _struct_type(columns: list[ColumnSpec]) -> duckdb.DuckDBPyType:
    fields = ", ".join(f"{_quote(c.name)} {output_type(c.sql_type)}" for c in columns)
    return duckdb.type(f"STRUCT({fields})")


def _function_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]).fetchall()
    return rows[0][0] > 0


@functools.lru_cache(maxsize=256)
def _conditions(content_hash: str, text: str, columns: tuple[ColumnSpec, ...]):
    return parse_condition(text, list(columns)) if text else None


def register_model(con: duckdb.DuckDBPyConnection, content_hash: str, columns: list[ColumnSpec],
                   owner: duckdb.DuckDBPyConnection | None = None) -> str:
    """Register the row UDF of one model version on ``con`` (no-op when present); returns its name.

    ``owner`` is the connection used to reload the model if the process cache dropped it (``con`` by
    default; a UDF must not run statements on the connection executing its query, so it uses a cursor).
    """
    name = row_function_name(content_hash)
    if _function_exists(con, name):
        return name
    source = owner or con
    spec_tuple = tuple(columns)
    names = [c.name for c in columns]
    types = _arrow_types(columns)

    def block(seed_value: int, text: str, first: int, last: int) -> pa.StructArray:
        return sample(seed_value, text, np.arange(first, last, dtype=np.int64))

    def loaded() -> BaseSynthesizer:
        model = peek_synthesizer(content_hash)
        if model is None:
            cursor = open_cursor(source)
            try:
                model = cached_synthesizer(cursor, *_version_of(cursor, content_hash), content_hash)
            finally:
                cursor.close()
        return model

    # A sequence model returns each entity's rows as one list (genesis_plan unnests them).
    entity_rows = loaded().entity_rows

    def sample(seed_value: int, text: str, indices: np.ndarray) -> pa.StructArray:
        model = loaded()
        conditions = _conditions(content_hash, text, spec_tuple)
        key = derive_key(content_hash, seed_value, text)
        table = model.sample_rows(indices, key=key, conditions=conditions)
        struct = pa.StructArray.from_arrays([table.column(i).combine_chunks() for i in range(table.num_columns)],
                                            names=names)
        return pa.ListArray.from_arrays(pa.array(model.entity_offsets(table)), struct) if entity_rows else struct

    def rows(seed: pa.Array, condition: pa.Array, total: pa.Array, index: pa.Array) -> pa.StructArray:
        if len(index) == 0:
            empty = pa.StructArray.from_arrays([pa.array([], t) for t in types], names=names)
            return pa.ListArray.from_arrays(pa.array([0], pa.int32()), empty) if entity_rows else empty
        seed_value, text, n = seed[0].as_py(), condition[0].as_py() or "", total[0].as_py()
        indices = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)
        first, last = int(indices[0]), int(indices[-1])
        start = first - first % BLOCK_ROWS
        if last - first + 1 != indices.size or (indices.size > 1 and not np.all(np.diff(indices) == 1)):
            # Not one ascending run of row indices: make exactly the rows asked for.
            return sample(seed_value, text, indices)
        if last >= start + BLOCK_ROWS:
            return block(seed_value, text, first, last + 1)
        end = min(start + BLOCK_ROWS, n)
        wanted = (content_hash, seed_value, text, start, end)
        with _blocks_lock:
            made = _blocks.get(wanted)
            if made is not None:
                _blocks.move_to_end(wanted)
        if made is None:
            made = block(seed_value, text, start, end)
            with _blocks_lock:
                _blocks[wanted] = made
                while len(_blocks) > BLOCK_CACHE_SIZE:
                    _blocks.popitem(last=False)
        return made.slice(first - start, len(index))

    row_type = duckdb.list_type(_struct_type(columns)) if entity_rows else _struct_type(columns)
    con.create_function(name, rows, ["BIGINT", "VARCHAR", "BIGINT", "BIGINT"], row_type,
                        type="arrow", side_effects=True)
    return name


def _version_of(con: duckdb.DuckDBPyConnection, content_hash: str) -> tuple[str, int]:
    rows = con.execute("SELECT name, version FROM genesis.models WHERE content_hash = ? LIMIT 1",
                       [content_hash]).fetchall()
    if not rows:
        raise ModelNotFoundError(f"The model version with content {content_hash[:16]} was dropped while in use.")
    return rows[0][0], int(rows[0][1])


def _arrow_types(columns: list[ColumnSpec]) -> list[pa.DataType]:
    return [arrow_type(output_type(c.sql_type)) for c in columns]


def _plan_sql(con: duckdb.DuckDBPyConnection, registrar: duckdb.DuckDBPyConnection
              ) -> Callable[[str, str, str, str], str]:
    def genesis_plan(model: str, n: str, seed: str, condition: str) -> str:
        cursor = open_cursor(con)
        try:
            plan, synthesizer = plan_generation(cursor, model, n, seed=seed, condition=condition)
        finally:
            cursor.close()
        function = register_model(registrar, plan.content_hash, synthesizer.columns_, owner=con)
        condition_literal = exp.Literal.string(plan.condition_sql).sql(dialect="duckdb")
        call = (f"{function}(CAST({plan.seed} AS BIGINT), {condition_literal}, CAST({plan.n} AS BIGINT), "
                "range)")
        if synthesizer.entity_rows:  # n counts entities; each returns a list of its rows
            call = f"unnest({call})"
        return f"SELECT unnest(genesis_row) FROM (SELECT {call} AS genesis_row FROM range({plan.n})) AS genesis_rows"

    return genesis_plan


def _fit_sql(registrar: duckdb.DuckDBPyConnection) -> Callable[..., str]:
    def genesis_fit(model: str, source_sql: str, method: str, seed: str, options: str) -> str:
        from genesis_sql.api import fit, parse_options
        from genesis_sql.errors import FitError
        from genesis_sql.sql.statements import validate_query

        validate_query(source_sql, what="training query", allow_files=False, error=FitError)
        summary = fit(registrar, model, source_sql, method=method or "auto", seed=0 if seed is None else seed,
                      **parse_options(options))
        return str(summary)

    return genesis_fit


def _drop_sql(con: duckdb.DuckDBPyConnection) -> Callable[[str], str]:
    def genesis_drop(model: str) -> str:
        cursor = open_cursor(con)
        try:
            count = drop_model(cursor, model)
        finally:
            cursor.close()
        return f"dropped {count} version{'s' if count != 1 else ''} of {model}"

    return genesis_drop


def replace_function(con: duckdb.DuckDBPyConnection, name: str, fn: Callable, params: list[str],
                     result: str | duckdb.DuckDBPyType) -> None:
    """Register ``fn`` as ``name``, replacing this connection's earlier registration.

    Python UDFs live in the database instance, owned by the connection that registered them: another
    connection to the same file in this process cannot replace them, so it uses them as they are (and
    they work while that connection stays open).
    """
    if _function_exists(con, name):
        try:
            con.remove_function(name)
        except duckdb.InvalidInputException:
            log.debug("%s is registered by another connection to this database; using it", name)
            return
    con.create_function(name, fn, params, result, side_effects=True, null_handling="special")


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the planner, fit, drop and seed functions, and the row UDF of every stored model version.

    Functions registered while a query runs (a model fitted by ``genesis_fit``, or stored by another
    connection) go through one long-lived cursor: a UDF cannot register on the connection running its
    query, and a function registered on a cursor lives only as long as that cursor.
    """
    registrar = open_cursor(con)
    replace_function(con, "genesis_plan", _plan_sql(con, registrar), ["VARCHAR"] * 4, "VARCHAR")
    replace_function(con, "genesis_fit_impl", _fit_sql(registrar), ["VARCHAR"] * 5, "VARCHAR")
    replace_function(con, "genesis_drop", _drop_sql(con), ["VARCHAR"], "VARCHAR")
    replace_function(con, "genesis_last_seed", lambda: last_seed(), [], "BIGINT")
    for name, version, content_hash in list_versions(con):
        try:
            synthesizer = cached_synthesizer(con, name, version, content_hash)
        except CatalogError as exc:
            # One corrupt version must not lock the user out of the rest (nor out of genesis_drop): it
            # fails when it is used, with the same message.
            log.warning("not registering %s@%d: %s", name, version, exc)
            continue
        register_model(con, content_hash, synthesizer.columns_)
