"""The row numbers ``genesis_generate`` scans, read by every DuckDB thread at once.

DuckDB reads a table function such as ``range()`` on one thread, so a query over it calls the row
function from one thread whatever ``threads`` says. A stored table is read in parallel, one row group
(ROW_GROUP_ROWS numbers) per task and in order, so ``genesis.row_numbers`` (the numbers 0 to ROWS - 1;
they compress to a few hundred KB) is the source: n rows are its first n numbers, or, past ROWS, each
number i stands for the run of rows i*m .. i*m+m-1. Either way DuckDB makes whole row groups of output
rows on each thread, so the row function makes its blocks (:mod:`.batches`) where DuckDB asks for them.

A database without the table (read-only and installed by an older genesis) scans ``range(n)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from genesis_sql._functions import quoted

SCHEMA = "genesis"
TABLE = "row_numbers"
# DuckDB's default row group: the unit a parallel table scan hands to one thread.
ROW_GROUP_ROWS = 122_880
# Enough row groups that a machine with 64 threads has a task for each at any n.
ROWS = 64 * ROW_GROUP_ROWS


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Store ``genesis.row_numbers`` in ``con``'s database (once)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{TABLE} AS SELECT range AS i FROM range({ROWS})")
    con.execute(f"COMMENT ON TABLE {SCHEMA}.{TABLE} IS 'The row numbers genesis_generate reads on all DuckDB "
                f"threads at once (range() is read on one). Internal: do not change.'")


@dataclass(frozen=True)
class RowScan:
    """SQL of a relation with one BIGINT column ``range``: the numbers 0 .. n-1 in order."""

    sql: str
    # Tasks DuckDB can give to different threads (row groups read), 1 for ``range(n)``.
    tasks: int


def row_scan(con: duckdb.DuckDBPyConnection, n: int) -> RowScan:
    """How the rows of a request of ``n`` rows are numbered in ``con``'s database."""
    catalog, stored = con.execute(
        "SELECT current_database(), EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?)", [SCHEMA, TABLE]).fetchall()[0]
    if not stored or n <= ROW_GROUP_ROWS:
        return RowScan(f"range({n})", 1)
    table = f"{quoted(catalog)}.{SCHEMA}.{TABLE}"
    if n <= ROWS:
        return RowScan(f"(SELECT i AS range FROM {table} WHERE i < {n})", -(-n // ROW_GROUP_ROWS))
    run = -(-n // ROWS)
    numbers = -(-n // run)
    return RowScan(f"(SELECT unnest(range(i * {run}, least(i * {run} + {run}, {n}))) AS range FROM {table} "
                   f"WHERE i < {numbers})", -(-numbers // ROW_GROUP_ROWS))
