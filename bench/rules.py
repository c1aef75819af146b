"""Keeping rules: generation rows/s of a model fitted with rules (the default) against the same model
fitted with ``rules="off"``, in the same process. Target (issue 13): rules cost at most 2x.

Two tables: the contract's planted diamonds (``x_again = x`` and ``depth_lo = depth - carat / 10``, an
order that 38% of unconstrained draws break: the worst case) and a survival table (``diag <= death``, which
a few percent break: the usual case). Run: ``python bench/rules.py``.
"""
from __future__ import annotations

import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

import genesis_sql

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "diamonds.csv"
ROWS = 200_000


def best_seconds(fn, repeats: int = 3) -> float:
    """Fastest of ``repeats`` runs (the machine is shared; the fastest is the least disturbed)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def compare(con: duckdb.DuckDBPyConnection, table: str, method: str) -> None:
    genesis_sql.fit(con, "kept", f"SELECT * FROM {table}", method=method)
    genesis_sql.fit(con, "loose", f"SELECT * FROM {table}", method=method, rules="off")

    def run(model: str) -> None:
        con.sql(f"SELECT * FROM genesis_generate('{model}', {ROWS}, seed := 7)").to_arrow_table()

    kept, loose = best_seconds(lambda: run("kept")), best_seconds(lambda: run("loose"))
    print(f"{table:<10}{method:<8}rules {ROWS / kept:>10,.0f} rows/s   off {ROWS / loose:>10,.0f} rows/s   "
          f"time ratio {kept / loose:.2f}")


def main() -> None:
    con = duckdb.connect()
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE planted AS SELECT *, x AS x_again, depth - carat / 10 AS depth_lo "
                f"FROM read_csv('{DATA}')")
    rng = np.random.default_rng(0)
    diag = np.datetime64("2001-01-01") + rng.integers(0, 3000, 20_000).astype("timedelta64[D]")
    death = diag + rng.gamma(2.0, 300, 20_000).astype(int).astype("timedelta64[D]")
    con.register("survival_rows", pa.table({"diag": diag, "death": death, "age": rng.integers(30, 90, 20_000),
                                            "stage": rng.integers(1, 5, 20_000)}))
    con.execute("CREATE TABLE survival AS SELECT * FROM survival_rows")
    for table in ("planted", "survival"):
        for method in ("arf", "copula"):
            compare(con, table, method)


if __name__ == "__main__":
    main()
