"""The numbers ``genesis_generate`` scans, read by every DuckDB thread at once.

DuckDB reads a table function such as ``range()`` on one thread, so a query over it calls the row
function from one thread whatever ``threads`` says. A stored table is read in parallel, one row group
(ROW_GROUP_ROWS numbers) per task and in order, so ``genesis.row_numbers`` (the numbers 0 to ROWS - 1;
they compress to a few hundred KB) is the source. Two forms:

- blocks (models of independent rows, up to ROWS / VECTOR_ROWS blocks): the scan yields the row ranges of
  blocks, each alone in its DuckDB vector and spread evenly over the row groups, so that each call of the
  block function makes and returns a whole block of rows. DuckDB converts a Python function's arguments and
  result while it holds the interpreter lock, once per call: a call per block instead of per 2,048 rows
  leaves DuckDB's threads free to work side by side.
- rows: n rows are its first n numbers, or, past ROWS, each number i stands for the run of rows
  i*m .. i*m+m-1; the row function serves each 2,048-row chunk from its blocks (:mod:`.batches`).

Up to one row group of rows, and in a database without the table (read-only and installed by an older
genesis), the rows are those of ``range(n)``.
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
# DuckDB's vector: the rows of one call of a function. A block per vector at most, so ROWS // VECTOR_ROWS
# blocks at most.
VECTOR_ROWS = 2_048


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Store ``genesis.row_numbers`` in ``con``'s database (once)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{TABLE} AS SELECT range AS i FROM range({ROWS})")
    con.execute(f"COMMENT ON TABLE {SCHEMA}.{TABLE} IS 'The row numbers genesis_generate reads on all DuckDB "
                f"threads at once (range() is read on one). Internal: do not change.'")


@dataclass(frozen=True)
class RowScan:
    """SQL of a relation, in order, of the rows 0 .. n-1: their numbers (a BIGINT column ``range``) or, with
    ``blocks``, blocks of them (the first row in ``range``, one past the last in ``range_end``)."""

    sql: str
    # Tasks DuckDB can give to different threads (row groups read), 1 for ``range(n)``.
    tasks: int
    blocks: bool = False


def row_scan(con: duckdb.DuckDBPyConnection, n: int, *, block_rows: int | None = None, threads: int = 1) -> RowScan:
    """How a request of ``n`` rows is numbered in ``con``'s database: by blocks of about ``block_rows`` rows
    where it can (given for models whose rows are independent), else by rows. Few blocks are made a
    multiple of DuckDB's ``threads`` in number, so that no thread is left with the last one alone."""
    catalog, stored = con.execute(
        "SELECT current_database(), EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?)", [SCHEMA, TABLE]).fetchall()[0]
    if not stored or n <= ROW_GROUP_ROWS:
        return RowScan(f"range({n})", 1)
    table = f"{quoted(catalog)}.{SCHEMA}.{TABLE}"
    groups = ROWS // ROW_GROUP_ROWS
    blocks = -(-n // block_rows) if block_rows else ROWS
    if blocks < groups:
        blocks = min(groups, -(-blocks // threads) * threads)
    if blocks <= ROWS // VECTOR_ROWS:
        rows = -(-n // blocks)  # (blocks - 1) * rows < n: no block is empty
        # Block b is the number b * stride: a multiple of the vector, and as many per row group as need be.
        stride = ROW_GROUP_ROWS // -(-blocks // groups) // VECTOR_ROWS * VECTOR_ROWS
        first = f"i // {stride} * {rows}"
        return RowScan(f"(SELECT {first} AS range, least({first} + {rows}, {n}) AS range_end FROM {table} "
                       f"WHERE i < {blocks * stride} AND i % {stride} = 0)",
                       (blocks - 1) * stride // ROW_GROUP_ROWS + 1, blocks=True)
    if n <= ROWS:
        return RowScan(f"(SELECT i AS range FROM {table} WHERE i < {n})", -(-n // ROW_GROUP_ROWS))
    run = -(-n // ROWS)
    numbers = -(-n // run)
    return RowScan(f"(SELECT unnest(range(i * {run}, least(i * {run} + {run}, {n}))) AS range FROM {table} "
                   f"WHERE i < {numbers})", -(-numbers // ROW_GROUP_ROWS))
