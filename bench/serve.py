"""The Postgres endpoint under load: 50 concurrent psycopg clients x 20 conditioned queries of 10,000 rows.

Prints errors (target 0), rows/s over the wire against the same queries run in process with the same
concurrency on the same database (target ratio >= 0.3), and the p95 latency of a 100-row query on an
otherwise idle server beside the same in process. The server runs as its own process
(``python -m genesis_sql.server.pgwire``), as users run it.
Run: ``python bench/serve.py [--clients 50 --queries 20 --rows 10000]``.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import numpy as np

import genesis_sql
from genesis_sql._db import cursor as open_cursor
from genesis_sql.connection import GenesisConnection

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "Benefits.csv"
MODEL = "workers"
QUERY = f"SELECT * FROM genesis_generate('{MODEL}', %s, seed := %s) WHERE age > %s AND sex = %s"


def workload(clients: int, queries: int, rows: int) -> list[list[tuple]]:
    """Per client, its (n, seed, age, sex) parameters: every query a different seed and condition."""
    return [[(rows, c * queries + q, 25 + (c + q) % 30, ("male", "female")[q % 2]) for q in range(queries)]
            for c in range(clients)]


def run_concurrently(plans: list[list[tuple]], run_one) -> tuple[float, int, list[str]]:
    """(seconds, rows, errors) of every client's queries run on its own thread by ``run_one(client, params)``."""
    errors: list[str] = []
    counts: list[int] = []
    lock = threading.Lock()

    def client(index: int, plan: list[tuple]) -> None:
        try:
            got = run_one(index, plan)
            with lock:
                counts.append(got)
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures
            with lock:
                errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")

    threads = [threading.Thread(target=client, args=(i, plan)) for i, plan in enumerate(plans)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(counts), errors


def latency_p95(run_query) -> float:
    """The p95 seconds of 100 sequential 100-row conditioned queries, each with a fresh seed."""
    latencies = []
    for seed in range(100):
        started = time.perf_counter()
        run_query((100, 10_000 + seed, 40, "female"))
        latencies.append(time.perf_counter() - started)
    return float(np.percentile(latencies, 95))


def in_process(db: Path, plans: list[list[tuple]]) -> tuple[tuple[float, int, list[str]], float]:
    con = duckdb.connect(str(db))
    genesis_sql.install(con)

    def run_one(index: int, plan: list[tuple]) -> int:
        gcon = GenesisConnection(open_cursor(con))
        total = 0
        for params in plan:
            sql = QUERY.replace("%s", "?")
            relation = gcon.duckdb_connection.sql(gcon.rewrite(_inline(sql, params)).sql)
            total += relation.to_arrow_table().num_rows
        gcon.close()
        return total

    try:
        result = run_concurrently(plans, run_one)
        gcon = GenesisConnection(open_cursor(con))
        p95 = latency_p95(lambda params: gcon.duckdb_connection.sql(
            gcon.rewrite(_inline(QUERY.replace("%s", "?"), params)).sql).fetchall())
        gcon.close()
        return result, p95
    finally:
        con.close()


def _inline(sql: str, params: tuple) -> str:
    """The in-process query with its values as literals (what the server does with bound parameters)."""
    n, seed, age, sex = params
    return sql.replace("?", str(n), 1).replace("?", str(seed), 1).replace("?", str(age), 1).replace("?", f"'{sex}'", 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def over_the_wire(db: Path, plans: list[list[tuple]], rows: int) -> tuple[tuple[float, int, list[str]], float]:
    import psycopg

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    server = subprocess.Popen([sys.executable, "-m", "genesis_sql.server.pgwire", "--db", str(db), "--pg",
                               f"127.0.0.1:{port}", "--no-auth"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout.readline().startswith("serving")
        connect = dict(host="127.0.0.1", port=port, user="bench", dbname="genesis", autocommit=True)

        def run_one(index: int, plan: list[tuple]) -> int:
            total = 0
            with psycopg.connect(**connect) as con:
                for params in plan:
                    got = con.execute(QUERY, params).fetchall()
                    if len(got) != rows:
                        raise AssertionError(f"{len(got)} rows instead of {rows}")
                    total += len(got)
            return total

        result = run_concurrently(plans, run_one)
        with psycopg.connect(**connect) as con:
            p95 = latency_p95(lambda params: con.execute(QUERY, params).fetchall())
        return result, p95
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    plans = workload(args.clients, args.queries, args.rows)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "serve.duckdb"
        with duckdb.connect(str(db)) as con:
            genesis_sql.install(con)
            con.execute(f"CREATE TABLE benefits AS SELECT * FROM read_csv('{DATA}', header = true)")
            genesis_sql.fit(con, MODEL, "SELECT * FROM benefits", method="copula", seed=0)
        (local_s, local_rows, local_errors), local_p95 = in_process(db, plans)
        (wire_s, wire_rows, wire_errors), p95 = over_the_wire(db, plans, args.rows)
    local_rate, wire_rate = local_rows / local_s, wire_rows / wire_s
    print(f"{args.clients} clients x {args.queries} conditioned queries x {args.rows} rows")
    for label, rows, seconds, rate, errors in (("in process", local_rows, local_s, local_rate, local_errors),
                                               ("over wire ", wire_rows, wire_s, wire_rate, wire_errors)):
        print(f"{label} : {rows:>10} rows in {seconds:6.1f} s = {rate:>10,.0f} rows/s, errors {len(errors)}")
    print(f"ratio wire / in process: {wire_rate / local_rate:.2f}x (target >= 0.3x)")
    print(f"p95 latency of a 100-row query: {p95 * 1000:.1f} ms over the wire (idle server), "
          f"{local_p95 * 1000:.1f} ms in process")
    for error in (local_errors + wire_errors)[:5]:
        print("error:", error)


if __name__ == "__main__":
    main()
