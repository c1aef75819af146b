"""Scale-out: partitioned generation to Parquet on a Dask cluster of 1 and of 2 workers, in one run.

    .venv/bin/python bench/scale.py                    # 100,000,000 rows of diamonds (copula)
    .venv/bin/python bench/scale.py --rows 20000000

(Named scale.py, not distributed.py: a script's folder comes first on sys.path, and a bench/distributed.py
would hide Dask's ``distributed`` package from itself.)

Each configuration starts its own scheduler and workers with Dask's CLI on loopback (one thread per worker,
as a worker per core would run), generates ``--rows`` rows of a copula fitted on diamonds into a fresh
folder, and reports wall seconds, rows/s, the 2-vs-1 worker ratio (target >= 1.6x on 2 cores), the peak
RSS of each worker process (target < 1 GiB) and bytes per row on disk; then an extrapolation to a
64-worker cluster from the per-worker rate (assuming the rate per worker holds, which a shared object
store or scheduler may not: it is an estimate, not a measurement).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DASK = str(Path(sys.executable).with_name("dask"))
RATIO_TARGET = 1.6
RSS_TARGET = 1 << 30


class PeakRss:
    """Samples the resident memory of some processes (and their children) until stopped."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.peaks = [0] * len(pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for i, process in enumerate(self.processes):
                try:
                    tree = [process, *process.children(recursive=True)]
                    self.peaks[i] = max(self.peaks[i], sum(p.memory_info().rss for p in tree))
                except psutil.Error:
                    continue

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(con: duckdb.DuckDBPyConnection, workers: int, rows: int, partitions: int, folder: Path) -> dict:
    """One configuration: its own scheduler and ``workers`` worker processes; returns the figures."""
    from genesis_sql.distributed.jobs import generate_distributed

    info = folder / f"scheduler-{workers}.json"
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(info)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (info.exists() and info.stat().st_size):
        time.sleep(0.1)
    address = json.loads(info.read_text())["address"]
    procs = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                               "--host", "127.0.0.1", "--memory-limit", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    out = folder / f"out-{workers}"
    try:
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(workers, timeout=120)
        with PeakRss([p.pid for p in procs]) as memory:
            started = time.perf_counter()
            result = generate_distributed(con, "diamonds", rows, scheduler=address, destination=str(out),
                                          partitions=partitions, seed=1)
            seconds = time.perf_counter() - started
    finally:
        for process in [*procs, scheduler]:
            process.terminate()
            process.wait()
    size = sum(p.stat().st_size for p in out.glob("part-*.parquet"))
    shutil.rmtree(out)
    return {"workers": workers, "seconds": seconds, "rows_per_s": result.rows / seconds,
            "peak_rss": max(memory.peaks), "bytes_per_row": size / result.rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--partitions", type=int, default=32)
    args = parser.parse_args()
    import genesis_sql

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = duckdb.connect(str(folder / "bench.duckdb"))
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}')")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", method="copula")
        figures = [run(con, workers, args.rows, args.partitions, folder) for workers in (1, 2)]
        con.close()
    print(f"{'workers':>7} {'seconds':>9} {'rows/s':>12} {'peak RSS/worker':>16} {'bytes/row':>10}")
    for f in figures:
        print(f"{f['workers']:>7} {f['seconds']:>9.1f} {f['rows_per_s']:>12,.0f} {f['peak_rss'] / 2**20:>13,.0f} MiB"
              f" {f['bytes_per_row']:>10.1f}")
    ratio = figures[1]["rows_per_s"] / figures[0]["rows_per_s"]
    per_worker = figures[1]["rows_per_s"] / 2
    print(f"\n2 workers vs 1: {ratio:.2f}x (target >= {RATIO_TARGET}x)")
    print(f"peak RSS per worker: {max(f['peak_rss'] for f in figures) / 2**20:,.0f} MiB (target < 1024 MiB)")
    print("\nextrapolation (rate per worker held constant; an estimate, not a measurement):")
    print(f"{'workers':>7} {'rows/s':>14} {'1e9 rows':>10} {'GB/hour':>9}")
    for workers in (1, 8, 16, 64):
        rate = per_worker * workers
        print(f"{workers:>7} {rate:>14,.0f} {1e9 / rate:>9.0f}s {rate * figures[1]['bytes_per_row'] * 3600 / 1e9:>9.1f}")
    ok = ratio >= RATIO_TARGET and max(f["peak_rss"] for f in figures) < RSS_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
