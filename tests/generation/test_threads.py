"""16 threads generating, fitting and evaluating at once, each on its own cursor, its own connection, or a
connection borrowed from a pool of 4 (issue 12 acceptance): no errors, and every result equal to the one
the same work gives on a single thread.
"""
from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from tests.generation.test_sharing import run_threads

THREADS = 16


def work(con: duckdb.DuckDBPyConnection, i: int) -> tuple:
    """The i-th job: generate (copula, or the forest under a condition), fit, or evaluate; its result."""
    kind = i % 4
    if i % 8 == 4:  # rows past one row group: DuckDB's threads make them side by side
        return tuple(con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM genesis_generate('gems', 250000, "
                                 f"seed := {i}) AS t").fetchall())
    if kind == 0:
        return tuple(con.execute(f"SELECT * FROM genesis_generate('gems', 2000, seed := {i})").fetchall())
    if kind == 1:
        return tuple(con.execute(f"SELECT * FROM genesis_generate('gems_arf', 1000, seed := {i}, "
                                 "condition := 'carat > 1')").fetchall())
    if kind == 2:
        con.execute(f"SELECT genesis_fit('refit_{i}', 'SELECT * FROM gems', method := 'copula')").fetchall()
        hashes = con.execute("SELECT content_hash FROM genesis.models WHERE name = ?", [f"refit_{i}"]).fetchall()
        rows = con.execute(f"SELECT * FROM genesis_generate('refit_{i}', 300, seed := 1)").fetchall()
        return hashes[0][0], tuple(rows)
    run_id = con.execute("SELECT genesis_evaluate('gems', 'SELECT * FROM gems', n := 300)").fetchall()[0][0]
    return tuple(con.execute("SELECT category, metric, value FROM genesis.quality_metrics WHERE run_id = ? "
                             "AND metric NOT LIKE '%seconds%' ORDER BY ALL", [run_id]).fetchall())


def expected_results(path: Path) -> dict[int, tuple]:
    """Every job's result, run one after another on one connection."""
    con = genesis_sql.install(duckdb.connect(str(path)))
    try:
        results = {i: work(con, i) for i in range(THREADS)}
    finally:
        con.close()
    return results


def own_cursor(path: Path) -> Iterator[Callable]:
    shared = genesis_sql.install(duckdb.connect(str(path)))

    @contextmanager
    def lend(i: int):
        cursor = shared.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    yield lend
    shared.close()


def own_connection(path: Path) -> Iterator[Callable]:
    connections = [genesis_sql.install(duckdb.connect(str(path))) for _ in range(THREADS)]

    @contextmanager
    def lend(i: int):
        yield connections[i]

    yield lend
    for con in connections:
        con.close()


def pool_of_four(path: Path) -> Iterator[Callable]:
    pool: queue.Queue = queue.Queue()
    connections = [genesis_sql.install(duckdb.connect(str(path))) for _ in range(4)]
    for con in connections:
        pool.put(con)

    @contextmanager
    def lend(i: int):
        con = pool.get()
        try:
            yield con
        finally:
            pool.put(con)

    yield lend
    for con in connections:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("connections", [own_cursor, own_connection, pool_of_four])
def test_sixteen_threads_generate_fit_and_evaluate_at_once(gems_template: Path, tmp_path: Path, connections) -> None:
    baseline, shared = tmp_path / "baseline.duckdb", tmp_path / "shared.duckdb"
    baseline.write_bytes(gems_template.read_bytes())
    shared.write_bytes(gems_template.read_bytes())
    expected = expected_results(baseline)
    results: dict[int, tuple] = {}
    lenders = connections(shared)
    lend = next(lenders)

    def job(i: int) -> None:
        with lend(i) as con:
            results[i] = work(con, i)

    assert run_threads(THREADS, job) == []
    next(lenders, None)
    assert results == expected
