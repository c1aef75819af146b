"""Benchmark: evaluate 1M real rows against 1M synthetic rows (the issue asks for under 60 s of wall time).

    .venv/bin/python bench/quality.py [--rows 1000000]

The real table is generated once from a model fitted on diamonds (53,940 rows), with a 200,000-row
holdout table; ``evaluate`` then generates ``--rows`` synthetic rows, samples every table down to the
documented sizes (genesis_sql.quality.sampling), computes every metric (utility on ``price`` included)
and stores the run. The baseline, run in the same process, is generating the same number of synthetic
rows alone: the ratio says how much evaluating adds to the generation it cannot avoid.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

import genesis_sql
from genesis_sql.quality import evaluate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIMIT_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="real and synthetic rows (default 1,000,000)")
    args = parser.parse_args()
    con = duckdb.connect()
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}')")
    genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", seed=0)
    con.register("big", genesis_sql.generate(con, "diamonds", args.rows + 200_000, seed=7))
    con.execute(f"CREATE TABLE big_real AS SELECT * FROM big LIMIT {args.rows}")
    con.execute(f"CREATE TABLE big_holdout AS SELECT * FROM big OFFSET {args.rows}")
    con.unregister("big")

    started = time.perf_counter()
    genesis_sql.generate(con, "diamonds", args.rows, seed=0)
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    report = evaluate(con, "diamonds", "SELECT * FROM big_real", n=args.rows, target="price",
                      holdout_sql="SELECT * FROM big_holdout")
    elapsed = time.perf_counter() - started

    print(f"generate {args.rows:,} rows (baseline): {baseline:6.2f} s")
    print(f"evaluate {report.n_real:,} real x {report.n_synthetic:,} synthetic rows: {elapsed:6.2f} s "
          f"({elapsed / baseline:.1f}x the baseline); overall {report.overall:.3f}")
    verdict = "ok" if elapsed < LIMIT_SECONDS else "TOO SLOW"
    print(f"{verdict}: limit {LIMIT_SECONDS:.0f} s")
    return 0 if elapsed < LIMIT_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
