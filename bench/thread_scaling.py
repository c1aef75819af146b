"""Where two DuckDB threads lose against one: the parts of ``genesis_generate``'s speed-up, measured apart.

Run from the project root:

    .venv/bin/python bench/thread_scaling.py             # diamonds, copula and arf, best of 5

``bench/generate.py`` measures the whole query at ``SET threads = 2`` against ``SET threads = 1`` (issue 12
asks 1.7x). This bench splits that figure into its two parts, each timed at 1 and 2 threads in the same
process and printed as a ratio:

- making rows: the blocks a query needs, made by two (or one) long-lived Python threads straight from the
  model (what each DuckDB thread does in a call of the block function), with no DuckDB involved;
- serving rows: the same query with every block already made, so that only DuckDB's scan, its calls of the
  block function (a block of rows a call, its arguments and result converted to and from Arrow while
  DuckDB holds Python's interpreter lock), the unnesting and the Arrow result remain;
- the whole query, as bench/generate.py runs it;
- making rows in two processes at once against one process alone: each process its own interpreter, so no
  lock is shared, and what is lost is the machine's own (the cores' shared cache and memory bandwidth). That
  is the ceiling of the threads' figure for the same work.

The whole query cannot scale better than its parts allow. Serving was bounded by the interpreter lock
DuckDB takes for each call of a Python function while it was called per 2,048 rows (1.0-1.6x); making rows
was bounded by the share of its time Python held the lock between numpy calls (about 15% on diamonds, 1.73x)
until the sampling loops became compiled ones that release it (genesis_sql/models/_kernels.py: 1.90x).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.models.base import BaseSynthesizer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_rate(rows: int, repeat: int, work: Callable[[], object],
              before: Callable[[], object] = lambda: None) -> float:
    """Rows per second of the fastest of ``repeat`` runs of ``work``, each after an untimed ``before``."""
    fastest = float("inf")
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - started)
    return rows / fastest


def make_blocks(plan: GenerationPlan, synthesizer: BaseSynthesizer, starts: range) -> None:
    """The blocks starting at ``starts``, made straight from the model, as a call of the block function does."""
    from genesis_sql.generation import batches

    for start in starts:
        batches.make_rows(plan, synthesizer, start, start + batches.BLOCK_ROWS, plain=False)


def _make_in_process(plan: GenerationPlan, synthesizer: BaseSynthesizer, rows: int, repeat: int,
                     start_together: Barrier, rates: Queue) -> None:
    """In a process of its own: the fastest of ``repeat`` makings of ``rows`` rows, each started at the
    barrier, so that processes making at once overlap. The rows are made on a thread other than the main
    one, as in DuckDB and in the threads' figure (glibc trims the main thread's heap differently)."""
    from genesis_sql.generation import batches

    starts = range(0, rows, batches.BLOCK_ROWS)

    def make() -> float:
        make_blocks(plan, synthesizer, starts[:1])
        return best_rate(rows, repeat, lambda: make_blocks(plan, synthesizer, starts), before=start_together.wait)

    with ThreadPoolExecutor(1) as thread:
        rates.put(thread.submit(make).result())


def processes_rate(plan: GenerationPlan, synthesizer: BaseSynthesizer, rows: int, repeat: int, count: int) -> float:
    """Rows per second each of ``count`` processes makes while all make at once (their mean)."""
    spawn = multiprocessing.get_context("spawn")
    start_together, rates = spawn.Barrier(count), spawn.Queue()
    workers = [spawn.Process(target=_make_in_process, args=(plan, synthesizer, rows, repeat, start_together, rates))
               for _ in range(count)]
    for worker in workers:
        worker.start()
    made = [rates.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(made) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_966_080, help="rows per run (a multiple of the block)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best counts")
    parser.add_argument("--method", action="append", help="genesis methods (default: copula, arf)")
    args = parser.parse_args()

    import genesis_sql
    from genesis_sql.generation import batches
    from genesis_sql.generation.plan import plan_generation

    with tempfile.TemporaryDirectory() as tmp:
        con = genesis_sql.install(duckdb.connect(str(Path(tmp) / "bench.duckdb")))
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}', header = true)")
        print(f"diamonds, {args.rows:,} rows, DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs, best of "
              f"{args.repeat}; load average {os.getloadavg()[0]:.1f}")
        for method in args.method or ["copula", "arf"]:
            genesis_sql.fit(con, method, "SELECT * FROM diamonds", method=method)
            plan, synthesizer = plan_generation(con, method, args.rows, seed=1)
            plan = replace(plan, threads=1)
            starts = range(0, args.rows, batches.BLOCK_ROWS)
            # Threads that live across runs, as DuckDB's do (a new thread starts on fresh memory).
            pools = {count: ThreadPoolExecutor(count) for count in (1, 2)}

            def make(count: int) -> None:
                def part(k: int) -> None:
                    make_blocks(plan, synthesizer, starts[k::count])

                list(pools[count].map(part, range(count)))

            query = f"SELECT * FROM genesis_generate('{method}', {args.rows}, seed := 1)"
            real_make_rows = batches.make_rows
            ready = real_make_rows(plan, synthesizer, 0, batches.BLOCK_ROWS, plain=False)
            rates: dict[str, dict[int, float]] = {"making rows": {}, "serving rows": {}, "whole query": {}}
            for count in (1, 2):
                rates["making rows"][count] = best_rate(args.rows, args.repeat, lambda: make(count))
                con.execute(f"SET threads = {count}")
                batches.make_rows = lambda *_, **__: ready
                try:
                    rates["serving rows"][count] = best_rate(args.rows, args.repeat,
                                                             lambda: con.sql(query).to_arrow_table())
                finally:
                    batches.make_rows = real_make_rows
                rates["whole query"][count] = best_rate(args.rows, args.repeat, lambda: con.sql(query).to_arrow_table())
            alone = processes_rate(plan, synthesizer, args.rows, args.repeat, 1)
            together = processes_rate(plan, synthesizer, args.rows, args.repeat, 2)
            con.execute("RESET threads")
            for pool in pools.values():
                pool.shutdown()
            for part, by_threads in rates.items():
                print(f"{method:7s} {part:13s} 1 thread {by_threads[1]:12,.0f} rows/s; 2 threads "
                      f"{by_threads[2]:12,.0f} rows/s: {by_threads[2] / by_threads[1]:.2f}x")
            print(f"{method:7s} making rows in 1 process {alone:12,.0f} rows/s; each of 2 at once {together:12,.0f} "
                  f"rows/s: {2 * together / alone:.2f}x (the machine's ceiling)")
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
