"""Many cursors, connections and threads sharing one generation path (issue 12, items 3, 6 and 8).

DuckDB keeps one database instance per file and process, and genesis's functions live in that instance:
whichever connection installed them, every other connection to the file uses them. These tests use real
files and real threads; the cases that used to crash the interpreter run in a subprocess.
"""
from __future__ import annotations

import random
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from tests.conftest import read_csv_sql

GENERATE = "SELECT * FROM genesis_generate('{model}', 3000, seed := {seed})"


def rows(con: duckdb.DuckDBPyConnection, model: str = "gems", seed: int = 1) -> list[tuple]:
    return con.execute(GENERATE.format(model=model, seed=seed)).fetchall()


def run_threads(count: int, work: Callable[[int], None]) -> list[str]:
    """Run ``work(i)`` in ``count`` threads released together; the errors they raised, as text."""
    errors: list[str] = []
    start = threading.Barrier(count)

    def body(i: int) -> None:
        try:
            start.wait()
            work(i)
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(f"{type(exc).__name__}: {exc} at {traceback.format_exc(limit=-4)}")

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_cursors_of_one_connection_generate_at_once(gems_db: Path) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    expected = {seed: rows(con, seed=seed) for seed in range(3)}
    results: dict[int, list[tuple]] = {}

    def work(i: int) -> None:
        cursor = con.cursor()
        try:
            results[i] = rows(cursor, seed=i % 3)
        finally:
            cursor.close()

    assert run_threads(8, work) == []
    assert all(results[i] == expected[i % 3] for i in range(8))
    con.close()


def test_closing_the_installing_connection_leaves_the_other_working(gems_db: Path) -> None:
    code = (f"import duckdb, genesis_sql\n"
            f"a = genesis_sql.install(duckdb.connect({str(gems_db)!r}))\n"
            f"b = genesis_sql.install(duckdb.connect({str(gems_db)!r}))\n"
            "a.close()\n"
            "print(len(b.execute(\"SELECT * FROM genesis_generate('gems', 10)\").fetchall()))\n"
            "print(len(b.execute(\"SELECT * FROM genesis_generate('gems_arf', 10, condition := 'carat > 1')\")"
            ".fetchall()))\n"
            "genesis_sql.fit(b, 'later', 'SELECT * FROM gems', method='copula')\n"
            "print(len(b.execute(\"SELECT * FROM genesis_generate('later', 10)\").fetchall()))\n")
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["10", "10", "10"]


def test_a_connection_that_never_installed_keeps_generating_after_the_installing_one_closed(gems_db: Path) -> None:
    code = (f"import duckdb, genesis_sql\n"
            f"a = genesis_sql.install(duckdb.connect({str(gems_db)!r}))\n"
            f"b = duckdb.connect({str(gems_db)!r})\n"
            "a.close()\n"
            "print(len(b.execute(\"SELECT * FROM genesis_generate('gems', 10)\").fetchall()))\n")
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["10"]


def test_in_memory_databases_generate_through_installed_cursors() -> None:
    con = genesis_sql.install(duckdb.connect())
    con.execute("CREATE TABLE t AS SELECT range AS x, range % 3 AS g FROM range(300)")
    genesis_sql.fit(con, "t", "SELECT * FROM t", method="copula")
    assert len(con.execute("SELECT * FROM genesis_generate('t', 10)").fetchall()) == 10
    cursor = con.cursor()
    genesis_sql.install(cursor)
    assert len(cursor.execute("SELECT * FROM genesis_generate('t', 10, seed := 2)").fetchall()) == 10
    con.close()
    with pytest.raises(duckdb.ConnectionException):
        cursor.execute("SELECT 1")


def test_install_on_eight_connections_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.duckdb")
    duckdb.connect(path).close()
    connections = [duckdb.connect(path) for _ in range(8)]
    assert run_threads(8, lambda i: genesis_sql.install(connections[i])) == []
    assert run_threads(8, lambda i: genesis_sql.install(connections[i])) == []
    assert connections[3].execute("SELECT count(*) FROM genesis_models()").fetchall() == [(0,)]
    for con in connections:
        con.close()


def test_a_process_without_install_is_told_how_to_install(gems_db: Path) -> None:
    code = (f"import duckdb\nc = duckdb.connect({str(gems_db)!r})\n"
            "for sql in (\"SELECT * FROM genesis_generate('gems', 1)\", \"SELECT genesis_fit('x', 'SELECT 1')\"):\n"
            "    try:\n        c.execute(sql).fetchall()\n    except duckdb.Error as exc:\n        print(exc)\n")
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    messages = [line for line in result.stdout.splitlines() if "does not exist" in line]
    assert len(messages) == 2
    assert all("genesis_sql.install(con)" in m and "genesis serve" in m for m in messages)


def test_after_closing_every_connection_another_process_opens_the_file(gems_db: Path) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    other = genesis_sql.install(duckdb.connect(str(gems_db)))
    cursor = con.cursor()
    rows(cursor)
    genesis_sql.generate(other, "gems", 100, seed=1)
    genesis_sql.fit(con, "again", "SELECT * FROM gems", method="copula")
    cursor.close()
    con.close()
    other.close()
    result = python(f"import duckdb\nprint(duckdb.connect({str(gems_db)!r}).execute('SELECT 42').fetchall())")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[(42,)]"


def test_closing_connections_at_any_point_leaves_the_others_working(gems_db: Path) -> None:
    keep = [genesis_sql.install(duckdb.connect(str(gems_db))) for _ in range(2)]
    expected = rows(keep[0])
    doomed = [genesis_sql.install(duckdb.connect(str(gems_db))) for _ in range(4)]
    chooser = random.Random(3)
    delays = [chooser.uniform(0, 0.05) for _ in doomed]
    kept: list[list[tuple]] = []

    def work(i: int) -> None:
        if i < len(doomed):
            threading.Event().wait(delays[i])
            doomed[i].close()
            return
        for _ in range(3):
            cursor = keep[i % 2].cursor()
            kept.append(rows(cursor))
            cursor.close()

    assert run_threads(len(doomed) + 4, work) == []
    assert len(kept) == 12 and all(r == expected for r in kept)
    for con in keep:
        con.close()


@pytest.mark.parametrize("model", ["gems", "gems_arf"])
def test_results_do_not_depend_on_the_thread_setting(gems_db: Path, model: str) -> None:
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    outputs = []
    for threads in (1, 2, 3):
        con.execute(f"SET threads = {threads}")
        outputs.append(con.sql(f"SELECT * FROM genesis_generate('{model}', 40000, seed := 5)").to_arrow_table())
        outputs.append(genesis_sql.generate(con, model, 40000, seed=5, condition="carat > 0.5"))
    assert outputs[0].equals(outputs[2]) and outputs[0].equals(outputs[4])
    assert outputs[1].equals(outputs[3]) and outputs[1].equals(outputs[5])
    con.close()



@pytest.mark.parametrize("condition", [None, "age > 40", "age > 50 AND state = 93"])
def test_results_do_not_depend_on_how_many_threads_blas_uses(tmp_path: Path, condition: str | None) -> None:
    """A row must not change with BLAS's thread count, which other libraries and other machines set (a wide
    table: BLAS splits its products over threads only above a size)."""
    from threadpoolctl import threadpool_limits

    con = genesis_sql.install(duckdb.connect(str(tmp_path / "benefits.duckdb")))
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula")
    outputs = []
    for blas_threads in (1, 2, 4):
        with threadpool_limits(limits=blas_threads):
            outputs.append(genesis_sql.generate(con, "workers", 140_000, seed=2, condition=condition))
    assert outputs[0].equals(outputs[1]) and outputs[0].equals(outputs[2])
    con.close()
