"""Memory: peak RSS of a process that streams 20,000,000 synthetic rows to Parquet through DuckDB's COPY.

Run from the project root (``make bench`` runs every bench/*.py):

    .venv/bin/python bench/memory.py                  # 20,000,000 rows, best of 2 runs per child
    .venv/bin/python bench/memory.py --rows 5000000 --repeat 3 --method copula

Each measurement is a fresh child process, so its peak RSS (``ru_maxrss`` from ``os.wait4``, cross-checked
by sampling ``/proc/<pid>/status``) is its own. Importing the package peaks higher than it settles, so each
child also reports its RSS once ready to COPY and, after resetting the kernel's high-water mark
(``/proc/self/clear_refs``), the peak during the COPY alone. The children, all in the same run:

- ``floor``:   import genesis_sql, open the database file, ``install(con)`` and stop (the cost of being there);
- ``range``:   the same, then ``COPY`` 20,000,000 rows of the same shape made by DuckDB alone from ``range()``
  to Parquet (what DuckDB's COPY itself needs);
- ``genesis``: the same, then ``COPY (SELECT * FROM genesis_generate('diamonds', 20000000)) TO 'x.parquet'``.

Target (issue 2, "Memory"): the genesis child's peak RSS under 1 GiB.

Then ``genesis generate diamonds 30000000`` with no ``--out`` (issue 11, item 8: it used to peak at 3.3 GB to
print 20 rows), run as the CLI itself with stdout a pipe (this process reads and counts every line), a file
(counted afterwards) and a terminal (a pseudo-terminal: a bounded preview). Target: each peaks under 1 GiB,
and the pipe and the file get all 30,000,000 rows plus the CSV header.

    .venv/bin/python bench/memory.py --part stdout                 # only the stdout measurement
    .venv/bin/python bench/memory.py --part stdout --stdout-rows 5000000

Exit code 0 when every target holds.
"""
from __future__ import annotations

import argparse
import os
import pty
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LIMIT_BYTES = 1 << 30

CHILD = textwrap.dedent("""
    import sys, time
    import duckdb, genesis_sql
    mode, db, out, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    con = duckdb.connect(db)
    genesis_sql.install(con)
    con.execute("SET enable_progress_bar = false")
    queries = {
        "range": f\"\"\"SELECT round(0.2 + (i % 480) / 100, 2) AS carat,
                           ['Ideal', 'Premium', 'Very Good', 'Good', 'Fair'][1 + i % 5] AS cut,
                           ['D', 'E', 'F', 'G', 'H', 'I', 'J'][1 + i % 7] AS color,
                           ['I1', 'SI2', 'SI1', 'VS2', 'VS1', 'VVS2', 'VVS1', 'IF'][1 + i % 8] AS clarity,
                           round(43 + (hash(i) % 360) / 10, 1) AS depth, 43.0 + i % 52 AS "table",
                           CAST(326 + hash(i + 1) % 18497 AS BIGINT) AS price, round((i % 1074) / 100, 2) AS x,
                           round((i % 5890) / 100, 2) AS y, round((i % 3180) / 100, 2) AS z
                    FROM range({rows}) AS t(i)\"\"\",
        "genesis": f"SELECT * FROM genesis_generate('diamonds', {rows}, seed := 1)",
    }
    def status(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))
    ready = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
        f.write("5")
    started = time.perf_counter()
    if mode in queries:
        con.execute(f"COPY ({queries[mode]}) TO '{out}' (FORMAT parquet)")
    seconds = time.perf_counter() - started
    copy_peak = status("VmHWM")
    if mode in queries:
        written = con.sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]
        assert written == rows, (written, rows)
    print(seconds, ready, copy_peak)
    con.close()
""")


def sample_rss(pid: int, peak: list[int], done: threading.Event) -> None:
    """Poll the child's resident set every 20 ms (a cross-check of ru_maxrss)."""
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            return
        time.sleep(0.02)


def run_child(mode: str, db: Path, out: Path, rows: int) -> tuple[int, int, float, int, int]:
    """Of one fresh child process: (peak RSS from the kernel, peak RSS sampled, seconds of the COPY, RSS once
    ready to COPY, peak RSS during the COPY)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(db), str(out), str(rows)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, done = [0], threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(proc.pid, peak, done), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} child failed ({proc.returncode}):\n{stderr[-3000:]}")
    out.unlink(missing_ok=True)
    seconds, ready, copy_peak = stdout.strip().splitlines()[-1].split()
    return usage.ru_maxrss * 1024, peak[0], float(seconds), int(ready), int(copy_peak)


def run_stdout(db: Path, rows: int, where: str, tmp: Path) -> tuple[int, int, float]:
    """``genesis generate diamonds ROWS`` with stdout a ``pipe``, ``file`` or ``terminal``: (peak RSS of the CLI
    process from the kernel, lines it wrote to stdout, seconds)."""
    command = [sys.executable, "-c", "from genesis_sql.cli import main; main()", "--db", str(db), "generate",
               "diamonds", str(rows), "--seed", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    lines = 0
    if where == "pipe":
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        while chunk := proc.stdout.read(1 << 20):
            lines += chunk.count(b"\n")
    elif where == "file":
        out = tmp / "stdout.csv"
        with open(out, "wb") as sink:
            proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
        with open(out, "rb") as written:
            while chunk := written.read(1 << 20):
                lines += chunk.count(b"\n")
        out.unlink()
        return usage.ru_maxrss * 1024, lines, time.perf_counter() - started
    else:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            lines += chunk.count(b"\n")
        os.close(leader)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"genesis generate to a {where} failed ({os.waitstatus_to_exitcode(status)})")
    return usage.ru_maxrss * 1024, lines, time.perf_counter() - started


def stdout_part(db: Path, rows: int, tmp: Path) -> bool:
    """Measure the CLI writing ``rows`` rows to stdout as a pipe, a file and a terminal; print and judge."""
    ok = True
    for where in ("pipe", "file", "terminal"):
        peak, lines, seconds = run_stdout(db, rows, where, tmp)
        complete = lines == rows + 1 if where != "terminal" else lines < 100
        holds = peak < LIMIT_BYTES and complete
        ok &= holds
        what = (f"{lines - 1:,} rows + header, {rows / seconds:,.0f} rows/s" if where != "terminal"
                else f"a preview of {lines} lines in {seconds:.1f} s")
        print(f"{'ok  ' if holds else 'FAIL'} generate {rows:,} rows to stdout as a {where:<8}: peak "
              f"{mib(peak).strip()} (target < 1024 MiB), {what}", flush=True)
    return ok


def mib(n: int) -> str:
    return f"{n / (1 << 20):7.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="children per mode; the lowest peak counts")
    parser.add_argument("--method", default="auto", help="the genesis method fitted on diamonds (auto, copula ...)")
    parser.add_argument("--part", choices=("all", "copy", "stdout"), default="all",
                        help="copy: the COPY children; stdout: genesis generate to a pipe, a file and a terminal")
    parser.add_argument("--stdout-rows", type=int, default=30_000_000)
    args = parser.parse_args()

    import genesis_sql

    with tempfile.TemporaryDirectory() as tmp:
        db, out = Path(tmp) / "bench.duckdb", Path(tmp) / "x.parquet"
        with duckdb.connect(str(db)) as con:
            genesis_sql.install(con)
            con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}', header = true)")
            method = genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", method=args.method).method
        stdout_ok = stdout_part(db, args.stdout_rows, Path(tmp)) if args.part in ("all", "stdout") else True
        if args.part == "stdout":
            return 0 if stdout_ok else 1
        print(f"{args.rows:,} rows to Parquet per child; diamonds model: {args.method} ({method}); "
              f"{os.cpu_count()} CPUs; lowest of {args.repeat} children", flush=True)
        figures = {}
        for mode in ("floor", "range", "genesis"):
            runs = [run_child(mode, db, out, args.rows) for _ in range(args.repeat)]
            kernel, sampled, _, ready, copy_peak = min(runs, key=lambda r: r[4])
            figures[mode] = (kernel, ready, copy_peak)
            speed = f"{args.rows / min(r[2] for r in runs):11,.0f} rows/s" if mode != "floor" else " " * 18
            print(f"{mode:<8} process peak {mib(kernel)} (sampled {mib(sampled)}); ready to COPY {mib(ready)}; "
                  f"peak during COPY {mib(copy_peak)} {speed}; COPY peaks of all runs: "
                  f"{', '.join(mib(r[4]).strip() for r in runs)}", flush=True)

    (genesis, ready, copy_peak), plain = figures["genesis"], figures["range"]
    print(f"     the genesis COPY adds {mib(copy_peak - ready).strip()} to the ready process; DuckDB's own COPY from "
          f"range() adds {mib(plain[2] - plain[1]).strip()}; genesis / range COPY peak: {copy_peak / plain[2]:.2f}x")
    ok = genesis < LIMIT_BYTES
    print(f"{'ok  ' if ok else 'FAIL'} the genesis child (import, install, COPY of {args.rows:,} rows) peaks at "
          f"{mib(genesis).strip()} (target < 1024 MiB)")
    return 0 if ok and stdout_ok else 1


if __name__ == "__main__":
    sys.exit(main())
