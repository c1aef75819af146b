"""Lineage of served rows: one generation block per ``genesis_generate`` call a served query read.

The server streams rows and never holds them all, so the query runs with one extra column, DuckDB's
``hash()`` of each output row (:func:`with_row_hash`); the session strips it before sending and adds the
hashes up. The block's fingerprint is then the one ``query_fingerprint`` would give for the same rows
(``genesis-rows/1``), its destination names the client.
"""
from __future__ import annotations

import logging

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from genesis_sql._materialise import _call_arguments
from genesis_sql.generation import last_seed, plan_generation
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


def record_served(con: duckdb.DuckDBPyConnection, calls: list[exp.Anonymous], columns: list[str], rows: int,
                  total_hash: int, *, destination: str) -> None:
    """Append a generation block per generator call of a served query (n = rows served)."""
    fingerprint = fingerprint_from_sums(columns, rows, total_hash)
    for call in calls:
        try:
            model, n, seed, condition = _call_arguments(call)
            plan, _ = plan_generation(con, model, n, seed=seed if seed is not None else last_seed(str(model)),
                                      condition=condition)
        except (ValueError, IndexError, GenesisError) as exc:
            log.warning("lineage: no generation block for served %s (%s)", call.sql()[:120], exc)
            continue
        record_generation(con, plan, fingerprint, destination=destination)
