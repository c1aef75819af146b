"""Lineage of served rows: one generation block per ``genesis_generate`` call a served query read.

The server streams rows and never holds them all, so the query runs with one extra column, DuckDB's
``hash()`` of each output row (:func:`with_row_hash`); the session strips it before sending and adds the
hashes up. The block's fingerprint is then the one ``query_fingerprint`` would give for the same rows
(``genesis-rows/1``), its destination names the client.

Blocks are appended by one writer thread (:class:`LineageWriter`) after the client has its answer, so
lineage (which re-plans each generation to name its model version, seed and condition) adds nothing
to a query's latency; stopping the server writes every block still queued.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql._materialise import _call_arguments
from genesis_sql.catalog import resolve_version
from genesis_sql.generation import last_seed
from genesis_sql.generation.plan import (
    GenerationPlan, cached_synthesizer, duckdb_threads, resolve_conditions, validate_n, validate_seed)
from genesis_sql.errors import GenesisError
from genesis_sql.lineage.fingerprint import fingerprint_from_sums
from genesis_sql.lineage.record import record_generation
from genesis_sql.sql.pushdown._state import GENERATOR

log = logging.getLogger(__name__)

ROW = "_genesis_row"
HASH_COLUMN = "__genesis_row_hash"


def generator_calls(sql: str) -> list[exp.Anonymous]:
    """The ``genesis_generate(...)`` calls of a statement (none when it does not parse)."""
    if GENERATOR not in sql.lower():
        return []
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return []
    return [call for call in tree.find_all(exp.Anonymous) if call.name.lower() == GENERATOR]


def with_row_hash(sql: str) -> str:
    """``sql`` with a last column holding each row's ``hash()`` (what lineage fingerprints add up)."""
    return f"SELECT {ROW}.*, hash({ROW}) AS {HASH_COLUMN} FROM ({sql.strip().rstrip(';')}\n) AS {ROW}"


def hash_sum(column: pa.Array) -> int:
    """The exact sum of a batch's row hashes (no wrap-around, as lineage fingerprints add them)."""
    hashes = column.to_numpy(zero_copy_only=False).astype(np.uint64)
    high = int((hashes >> np.uint64(32)).sum(dtype=np.uint64))
    low = int((hashes & np.uint64(0xFFFFFFFF)).sum(dtype=np.uint64))
    return (high << 32) + low


def served_plan(con: duckdb.DuckDBPyConnection, model: str, n: int, seed: int | None,
                condition: str | None) -> GenerationPlan:
    """The plan of a generation that already ran: the version, seed and canonical condition it used.

    Unlike ``plan_generation`` it does not estimate feasibility again (the rows exist), which is most of
    the cost of planning a conditioned request.
    """
    name, version, content_hash = resolve_version(con, model)
    chosen = validate_seed(seed if seed is not None else last_seed(name))
    synthesizer = cached_synthesizer(con, name, version, content_hash)
    return GenerationPlan(name, version, content_hash, validate_n(n), chosen,
                          resolve_conditions(condition, synthesizer.columns_), seed is None, duckdb_threads(con))


def record_served(con: duckdb.DuckDBPyConnection, calls: list[exp.Anonymous], columns: list[str], rows: int,
                  total_hash: int, *, destination: str) -> None:
    """Append a generation block per generator call of a served query (n = rows served)."""
    fingerprint = fingerprint_from_sums(columns, rows, total_hash)
    for call in calls:
        try:
            plan = served_plan(con, *_call_arguments(call))
        except (ValueError, IndexError, GenesisError) as exc:
            log.warning("lineage: no generation block for served %s (%s)", call.sql()[:120], exc)
            continue
        record_generation(con, plan, fingerprint, destination=destination)


@dataclass(frozen=True)
class ServedRows:
    """What one served query delivered, for its lineage blocks."""

    calls: list[exp.Anonymous]
    columns: list[str]
    rows: int
    hash_total: int
    destination: str


class LineageWriter:
    """Appends the lineage of served queries on its own thread and cursor, in the order they finished."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from genesis_sql._db import cursor

        self._cursor = cursor(con)
        self._queue: queue.Queue[ServedRows | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pgwire-lineage", daemon=True)
        self._thread.start()

    def submit(self, served: ServedRows) -> None:
        self._queue.put(served)

    def _run(self) -> None:
        while (served := self._queue.get()) is not None:
            try:
                record_served(self._cursor, served.calls, served.columns, served.rows, served.hash_total,
                              destination=served.destination)
            except Exception:  # noqa: BLE001 - a failed block is logged; serving goes on
                log.exception("lineage: could not record a served generation")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every submitted block is written."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=60)
        self._cursor.close()
