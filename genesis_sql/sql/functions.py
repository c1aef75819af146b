"""The genesis functions DuckDB sees: the planner behind ``genesis_generate``, ``genesis_fit``,
``genesis_drop``, ``genesis_last_seed`` and one Arrow-vectorized row function per stored model version.

``genesis_generate`` is a table macro (udfs/generate.sql) over ``query(<planner>(...))``. DuckDB evaluates
the planner while binding, so every argument is validated (and may raise) even for ``count(*)`` or
``EXPLAIN``. The planner keeps the plan in the runtime and returns SQL that scans block or row numbers
(:mod:`genesis_sql.generation.row_source`, read on every DuckDB thread) through the model's block or row
function with the plan's id: the function takes the plan by identity (no condition text parsed again) and
gets its rows from :mod:`genesis_sql.generation.batches`.

The Python functions behind the persisted macros are named ``python_name(...)``, a name that tells a
process which never installed genesis what to do (see :mod:`genesis_sql._functions`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import duckdb

from genesis_sql._functions import Database, python_name, register_function
from genesis_sql.catalog import drop_model, list_versions
from genesis_sql.errors import CatalogError
from genesis_sql.generation.batches import BLOCK_ROWS
from genesis_sql.generation.plan import GenerationPlan, cached_synthesizer, last_seed, plan_generation
from genesis_sql.generation.row_function import block_function_name, register_model, row_argument, row_function_name
from genesis_sql.generation.row_source import RowScan, row_scan
from genesis_sql.generation.runtime import RUNTIME
from genesis_sql.models.base import BaseSynthesizer

__all__ = ["register", "register_model", "row_function_name"]

PLANNER = python_name("genesis_plan")
FIT = python_name("genesis_fit")
DROP = python_name("genesis_drop")
LAST_SEED = python_name("genesis_last_seed")
log = logging.getLogger(__name__)


def _planner(database: Database) -> Callable[[str, str, str, str], str]:
    def genesis_plan(model: str, n: str, seed: str, condition: str) -> str:
        def prepare(cursor: duckdb.DuckDBPyConnection) -> tuple[GenerationPlan, BaseSynthesizer, str, RowScan]:
            plan, synthesizer = plan_generation(cursor, model, n, seed=seed, condition=condition)
            function = register_model(cursor, plan.content_hash, synthesizer.columns_)
            block_rows = None if synthesizer.entity_rows else BLOCK_ROWS
            scan = row_scan(cursor, plan.n, block_rows=block_rows, threads=plan.threads)
            return plan, synthesizer, function, scan

        plan, synthesizer, function, scan = database.run(prepare)
        # DuckDB's threads share the scan's tasks; what they leave idle splits each block of rows.
        producing = replace(plan, threads=max(1, plan.threads // scan.tasks))
        plan_id = RUNTIME.remember_plan(producing, synthesizer)
        call = f"{function}({row_argument(plan_id)})"
        if scan.blocks:
            call = f"{block_function_name(plan.content_hash)}({row_argument(plan_id)}, range_end)"
        if scan.blocks or synthesizer.entity_rows:  # a list of rows per block, or per entity (n counts those)
            call = f"unnest({call})"
        return f"SELECT unnest(genesis_row) FROM (SELECT {call} AS genesis_row FROM {scan.sql}) AS genesis_rows"

    return genesis_plan


def _fitter(database: Database) -> Callable[..., str]:
    def genesis_fit(model: str, source_sql: str, method: str, seed: str, options: str) -> str:
        from genesis_sql.api import fit, parse_options
        from genesis_sql.errors import FitError
        from genesis_sql.sql.statements import validate_query

        validate_query(source_sql, what="training query", allow_files=False, error=FitError)
        with database.connection() as cursor:
            summary = fit(cursor, model, source_sql, method=method or "auto", seed=0 if seed is None else seed,
                          **parse_options(options))
        return str(summary)

    return genesis_fit


def _dropper(database: Database) -> Callable[[str], str]:
    def genesis_drop(model: str) -> str:
        count = database.run(lambda cursor: drop_model(cursor, model))
        return f"dropped {count} version{'s' if count != 1 else ''} of {model}"

    return genesis_drop


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the planner, fit, drop and seed functions, and the row function of every stored model version,
    in ``con``'s database (each once per process; they keep working after ``con`` closes)."""
    register_function(con, PLANNER, _planner, ["VARCHAR"] * 4, "VARCHAR")
    register_function(con, FIT, _fitter, ["VARCHAR"] * 5, "VARCHAR")
    register_function(con, DROP, _dropper, ["VARCHAR"], "VARCHAR")
    register_function(con, LAST_SEED, lambda database: lambda: last_seed(), [], "BIGINT")
    for name, version, content_hash in list_versions(con):
        try:
            synthesizer = cached_synthesizer(con, name, version, content_hash)
        except CatalogError as exc:
            # One corrupt version must not lock the user out of the rest (nor out of genesis_drop): it
            # fails when it is used, with the same message.
            log.warning("not registering %s@%d: %s", name, version, exc)
            continue
        register_model(con, content_hash, synthesizer.columns_)
