"""Speed: genesis against SDV's GaussianCopulaSynthesizer on the same training data, in one process.

Run from the project root (``make bench`` runs every bench/*.py):

    .venv/bin/python bench/generate.py                         # methods auto and copula, best of 3 runs
    .venv/bin/python bench/generate.py --repeat 5 --method copula

What is measured (issue 2, "Speed"), each figure the best of ``--repeat`` runs because the machine is shared;
genesis and SDV runs alternate, so that both see the same load:

- generate: rows/s of ``SELECT * FROM genesis_generate('diamonds', 2000000, seed := s)`` materialised to an
  Arrow table (``to_arrow_table()``), in a DuckDB file with the model stored;
- SDV sample: rows/s of ``GaussianCopulaSynthesizer.sample(n)`` (``--sdv-rows``, 200,000 by default) from a
  synthesizer fitted on the same 53,940 diamonds;
- fit: seconds of ``genesis_sql.fit(con, 'diamonds', 'SELECT * FROM diamonds', method=m)`` end to end
  (reading, detection, fitting, storing the model and its lineage) against SDV's ``fit({'diamonds': df})``
  on the same rows already in a DataFrame. SDV gets the explicit metadata the fidelity bench uses (numbers
  with more than 10 distinct values numerical, everything else categorical).

- threads: generate rows/s with ``SET threads = 2`` against ``SET threads = 1``, runs alternating, each
  timed run after an untimed one with the same setting (a SET starts DuckDB's threads anew), the best of
  each (issue 12: DuckDB hands each thread blocks of rows, one call of the model's block function
  per block, and each thread makes its blocks; the output is identical either way). The load average is
  printed beside it, since other work on a shared machine takes the second core away.
  ``bench/thread_scaling.py`` splits this figure into making rows and serving them.

Each ``--method`` is measured (``arf``, the forest, and ``copula``, the foundation's synthesizer, by
default). Targets (issue 12): generate rows/s >= 25x SDV's sample rows/s for the forest and >= 35x for the
copula (20x for other methods); genesis fit >= 5x faster than SDV's fit; threads = 2 >= 1.7x threads = 1.
Exit code 0 when the first method meets its targets.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
GENERATE_TARGET = 20.0
GENERATE_TARGETS = {"arf": 25.0, "copula": 35.0}
FIT_TARGET = 5.0
THREADS_TARGET = 1.7


def timed(fn) -> tuple[float, object]:
    """Wall seconds of one call of ``fn`` and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def sdv_metadata(df):
    """SDV metadata the way the fidelity bench declares it: >10 distinct numbers numerical, else categorical."""
    from sdv.metadata import Metadata

    columns = {}
    for name in df.columns:
        numeric = df[name].dtype.kind in "iuf" and df[name].nunique() > 10
        columns[name] = {"sdtype": "numerical" if numeric else "categorical"}
    return Metadata.load_from_dict({"tables": {"diamonds": {"columns": columns}}})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="genesis rows per generate run")
    parser.add_argument("--sdv-rows", type=int, default=200_000, help="SDV rows per sample run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--method", action="append", help="genesis method(s) to measure (default: arf, copula)")
    args = parser.parse_args()

    import genesis_sql

    warnings.simplefilter("ignore")  # SDV and RDT deprecation chatter
    from sdv.single_table import GaussianCopulaSynthesizer

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}', header = true)")
        df = con.sql("SELECT * FROM diamonds").df()
        metadata = sdv_metadata(df)
        threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]

        def fit(method: str):
            return genesis_sql.fit(con, f"diamonds_{method}", "SELECT * FROM diamonds", method=method)

        # Which concrete method each request gets (auto may pick the copula: measure it once then).
        chosen: dict[str, str] = {}
        for method in args.method or ["arf", "copula"]:
            concrete = fit(method).method
            if concrete not in chosen.values():
                chosen[method] = concrete
        print(f"diamonds: {len(df):,} training rows; DuckDB {duckdb.__version__} with {threads} threads; "
              f"{os.cpu_count()} CPUs; methods {', '.join(f'{m} ({c})' for m, c in chosen.items())}; "
              f"genesis and SDV runs interleaved, best of {args.repeat} each", flush=True)

        def sdv_fit():
            synthesizer = GaussianCopulaSynthesizer(metadata)
            synthesizer.fit({"diamonds": df})
            return synthesizer

        def generate(method: str, seed: int):
            sql = f"SELECT * FROM genesis_generate('diamonds_{method}', {args.rows}, seed := {seed})"
            return con.sql(sql).to_arrow_table()

        times: dict[str, list[float]] = {"sdv_fit": [], "sdv_sample": []}
        for method in chosen:
            times[f"fit {method}"], times[f"generate {method}"] = [], []
        for run in range(args.repeat):
            line = []
            for method in chosen:
                seconds, _ = timed(lambda: fit(method))
                times[f"fit {method}"].append(seconds)
                line.append(f"{method} fit {seconds:.2f} s")
            seconds, synthesizer = timed(sdv_fit)
            times["sdv_fit"].append(seconds)
            line.append(f"SDV fit {seconds:.2f} s")
            for method in chosen:
                seconds, table = timed(lambda: generate(method, run + 1))
                assert table.num_rows == args.rows
                times[f"generate {method}"].append(seconds)
                line.append(f"{method} {args.rows / seconds:,.0f} rows/s")
            seconds, sampled = timed(lambda: synthesizer.sample(args.sdv_rows))
            sampled = sampled["diamonds"] if isinstance(sampled, dict) else sampled
            assert len(sampled) == args.sdv_rows
            times["sdv_sample"].append(seconds)
            line.append(f"SDV {args.sdv_rows / seconds:,.0f} rows/s")
            print(f"  run {run + 1}: {'; '.join(line)}", flush=True)
        by_threads: dict[str, dict[int, float]] = {}
        for method in chosen:
            # 1 and 2 threads alternate, so that both see the same load. Each SET starts DuckDB's threads
            # anew (threads = 2 gets a new worker thread every time), so one untimed run follows it: what is
            # timed is the setting as a session that keeps it runs, not the start of a thread.
            seconds_by_count: dict[int, list[float]] = {1: [], 2: []}
            for run in range(args.repeat):
                for count in (1, 2):
                    con.execute(f"SET threads = {count}")
                    generate(method, 1000 + run)
                    seconds_by_count[count].append(timed(lambda: generate(method, 100 + run))[0])
            by_threads[method] = {count: args.rows / min(seconds) for count, seconds in seconds_by_count.items()}
            con.execute(f"SET threads = {threads}")
        con.close()

    sdv_fit_s, sdv_rate = min(times["sdv_fit"]), args.sdv_rows / min(times["sdv_sample"])
    print(f"SDV GaussianCopula fit {sdv_fit_s:8.2f} s; sample {sdv_rate:12,.0f} rows/s ({args.sdv_rows:,} rows)")
    verdicts = []
    for method, concrete in chosen.items():
        fit_s, gen_rate = min(times[f"fit {method}"]), args.rows / min(times[f"generate {method}"])
        gen_ratio, fit_ratio = gen_rate / sdv_rate, sdv_fit_s / fit_s
        target = GENERATE_TARGETS.get(concrete, GENERATE_TARGET)
        one, two = by_threads[method][1], by_threads[method][2]
        ok_gen, ok_fit, ok_threads = gen_ratio >= target, fit_ratio >= FIT_TARGET, two / one >= THREADS_TARGET
        verdicts.append(ok_gen and ok_fit and ok_threads)
        print(f"genesis {method} ({concrete}): fit {fit_s:.2f} s end to end; generate {gen_rate:,.0f} rows/s "
              f"({args.rows:,} rows to Arrow)")
        print(f"{'ok  ' if ok_gen else 'FAIL'} {method}: generate {gen_ratio:.1f}x SDV's sample rate "
              f"(target >= {target:g}x)")
        print(f"{'ok  ' if ok_threads else 'FAIL'} {method}: threads = 2 {two:,.0f} rows/s is {two / one:.2f}x "
              f"threads = 1 {one:,.0f} rows/s (target >= {THREADS_TARGET:g}x; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print(f"{'ok  ' if ok_fit else 'FAIL'} {method}: fit {fit_ratio:.1f}x faster than SDV's fit "
              f"(target >= {FIT_TARGET:g}x)")
    return 0 if verdicts[0] else 1


if __name__ == "__main__":
    sys.exit(main())
