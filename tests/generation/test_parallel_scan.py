"""DuckDB's threads make the rows of one genesis_generate side by side (issue 12, item 7).

The planner's SQL scans genesis.row_numbers, which DuckDB reads a row group per thread (range() is read
on one thread); each thread makes the blocks of rows its row groups need, one call of the block function
per block. The rows must be those of the Python API, in order, whatever the thread count and whichever
form the scan takes.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.generation import batches, row_function, row_source
from tests.generation.conftest import TRAINING

ROWS = 300_000  # three row groups of the scan


def sql_rows(con: duckdb.DuckDBPyConnection, model: str, n: int, seed: int, condition: str | None = None) -> pa.Table:
    condition_sql = "" if condition is None else f", condition := '{condition}'"
    return con.sql(f"SELECT * FROM genesis_generate('{model}', {n}, seed := {seed}{condition_sql})").to_arrow_table()


def python_rows(con: duckdb.DuckDBPyConnection, model: str, n: int, seed: int, condition: str | None = None) -> pa.Table:
    return genesis_sql.generate(con, model, n, seed=seed, condition=condition)


def same_rows(left: pa.Table, right: pa.Table) -> bool:
    return left.column_names == right.column_names and all(
        left.column(i).to_pylist() == right.column(i).to_pylist() for i in range(left.num_columns))


@pytest.mark.parametrize("model, condition", [("gems", None), ("gems_arf", None), ("gems", "carat > 1")])
def test_rows_are_the_python_apis_in_order_whatever_duckdbs_threads(gems_db: Path, model: str,
                                                                    condition: str | None) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    expected = python_rows(con, model, ROWS, 5, condition)
    for threads in (1, 2, 4):
        con.execute(f"SET threads = {threads}")
        assert same_rows(sql_rows(con, model, ROWS, 5, condition), expected), f"threads = {threads}"
    con.close()


@pytest.mark.parametrize("n", [50_000, ROWS], ids=["one row group, two worker threads", "three row groups"])
@pytest.mark.parametrize("model", ["diamonds", "benefits", "movies", "economics"])
def test_every_shared_table_gives_the_python_apis_rows(models_con, model: str, n: int) -> None:
    """Categories travel dictionary-encoded from blocks to DuckDB, whichever thread made which part of a
    block: NULL categories and text made per part (movies) included."""
    expected = python_rows(models_con, model, n, 11)
    models_con.execute("SET threads = 2")
    try:
        assert same_rows(sql_rows(models_con, model, n, 11), expected)
    finally:
        models_con.execute("RESET threads")


def test_duckdbs_threads_each_make_their_own_blocks_once(gems_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    served, calls, made = set(), [], []
    serve, make = row_function.row_blocks, batches.make_rows

    def serving(plan, synthesizer, firsts, lasts):
        served.add(threading.get_ident())
        calls.append(len(firsts))
        time.sleep(0.002)  # so that a loaded machine still starts the second thread before the first is done
        return serve(plan, synthesizer, firsts, lasts)

    def making(plan, synthesizer, first, last, **kwargs):
        made.append((first, last, plan.threads))
        return make(plan, synthesizer, first, last, **kwargs)

    monkeypatch.setattr(row_function, "row_blocks", serving)
    monkeypatch.setattr(batches, "make_rows", making)
    con.execute("SET threads = 2")
    assert sql_rows(con, "gems", 4 * row_source.ROW_GROUP_ROWS, 3).num_rows == 4 * row_source.ROW_GROUP_ROWS
    assert len(served) == 2
    assert calls == [1] * 8  # a call per block
    blocks = sorted(first for first, _, _ in made)
    assert blocks == list(range(0, 4 * row_source.ROW_GROUP_ROWS, batches.BLOCK_ROWS))  # each once
    assert {threads for _, _, threads in made} == {1}  # DuckDB's threads split the rows, not worker threads
    con.close()


@pytest.mark.parametrize("n, threads", [(122_881, 1), (122_881, 2), (2_000_000, 2), (2_000_000, 3),
                                        (2_000_000, 64), (9_000_001, 4), (235_000_000, 2)])
def test_blocks_tile_the_rows_in_order_a_multiple_of_the_threads_when_few(con, n: int, threads: int) -> None:
    scan = row_source.row_scan(con, n, block_rows=batches.BLOCK_ROWS, threads=threads)
    assert scan.blocks
    blocks = con.sql(f"SELECT range, range_end FROM {scan.sql}").fetchall()
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(first < end for first, end in blocks)  # none empty
    assert all(end == following for (_, end), (following, _) in zip(blocks, blocks[1:]))  # in order, no gap
    assert max(end - first for first, end in blocks) <= batches.BLOCK_ROWS
    groups = row_source.ROWS // row_source.ROW_GROUP_ROWS
    if len(blocks) < groups:
        assert len(blocks) % threads == 0 and scan.tasks == len(blocks)  # a row group, a task, each
    assert 1 <= scan.tasks <= min(groups, len(blocks))


def test_past_as_many_blocks_as_vectors_the_rows_are_numbered_one_by_one(con) -> None:
    n = row_source.ROWS // row_source.VECTOR_ROWS * batches.BLOCK_ROWS + 1
    assert not row_source.row_scan(con, n, block_rows=batches.BLOCK_ROWS, threads=2).blocks


def test_a_request_within_one_row_group_splits_its_blocks_over_worker_threads(gems_db: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    made = []
    make = batches.make_rows
    monkeypatch.setattr(batches, "make_rows", lambda plan, *args, **kwargs: made.append(plan.threads) or make(
        plan, *args, **kwargs))
    con.execute("SET threads = 2")
    assert sql_rows(con, "gems", 100_000, 3).num_rows == 100_000
    assert made and set(made) == {2}
    con.close()


def test_past_the_stored_numbers_each_number_stands_for_a_run_of_rows(tmp_path: Path, gems_template: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(row_source, "ROWS", 2 * row_source.ROW_GROUP_ROWS)
    con = genesis_sql.install(duckdb.connect(str(tmp_path / "small.duckdb")))
    con.execute(f"ATTACH '{gems_template}' AS template (READ_ONLY)")
    con.execute("CREATE TABLE gems AS SELECT * FROM template.gems")
    con.execute("DETACH template")
    genesis_sql.fit(con, "gems", TRAINING, method="copula")
    n = 600_001  # three rows per stored number, the last run short
    scan = row_source.row_scan(con, n)
    assert "unnest" in scan.sql and scan.tasks == 1 + (n // 3) // row_source.ROW_GROUP_ROWS
    numbers = con.sql(f"SELECT range FROM {scan.sql}").fetchnumpy()["range"]
    assert (numbers == np.arange(n)).all()
    # Blocks too spread over the stored numbers there are.
    assert row_source.row_scan(con, n, block_rows=batches.BLOCK_ROWS, threads=2).blocks
    expected = python_rows(con, "gems", n, 8)
    con.execute("SET threads = 2")
    assert same_rows(sql_rows(con, "gems", n, 8), expected)
    con.close()


def test_a_read_only_database_without_the_row_numbers_scans_range(gems_db: Path) -> None:
    with genesis_sql.install(duckdb.connect(str(gems_db))) as con:
        expected = python_rows(con, "gems", ROWS, 2)
        con.execute("DROP TABLE genesis.row_numbers")
    with genesis_sql.install(duckdb.connect(str(gems_db), read_only=True)) as con:
        assert row_source.row_scan(con, ROWS).sql == f"range({ROWS})"
        con.execute("SET threads = 2")
        assert same_rows(sql_rows(con, "gems", ROWS, 2), expected)


def test_categories_reach_duckdb_encoded_only_while_their_dictionaries_are_small() -> None:
    small = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a", "b"]))
    big = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()),
                                         pa.array([f"city {i}" for i in range(batches.DUCKDB_DICTIONARY_VALUES + 1)]))
    table = pa.table({"small": small, "big": big, "x": [1.0, 2.0]})
    assert batches.plain_columns(table, keep_up_to=batches.DUCKDB_DICTIONARY_VALUES).schema.types == [
        small.type, pa.string(), pa.float64()]
    assert batches.plain_columns(table).schema.types == [pa.string(), pa.string(), pa.float64()]
    assert batches.plain_columns(table).to_pylist() == table.to_pylist()


def test_a_category_of_thousands_of_values_gives_the_python_apis_rows(con) -> None:
    con.execute("CREATE TABLE towns AS SELECT 'town ' || (i % 3000) AS town, i % 7 AS k FROM range(30000) t(i)")
    genesis_sql.fit(con, "towns", "SELECT * FROM towns", method="copula")
    expected = python_rows(con, "towns", ROWS, 4)
    con.execute("SET threads = 2")
    assert same_rows(sql_rows(con, "towns", ROWS, 4), expected)
