"""Streaming benchmark: rows/s into Kafka against a naive loop, rate-control accuracy, and memory over a long stream.

Every figure comes from this run, on this machine:

1. throughput: the diamonds model into Kafka (librdkafka's mock cluster, a process of its own), counted
   once the broker acknowledged every message, for ``KafkaStreamingGenerator`` and for a naive loop over
   the same rows and producer settings (rows to Python dicts, ``json.dumps``, one ``produce`` per row);
   targets: >= 250,000 rows/s and >= 2x the naive loop. The stages alone (generation, JSON encoding)
   are timed too, to show where the time goes;
2. rate control: a stream at ``--rate`` rows/s, measured over ``--rate-seconds`` from its first delivered
   row; target: within 5% of the rate;
3. memory: peak RSS of this process after the first tenth of a ``--rss-rows`` stream into Kafka and at
   its end; target: growth within 100 MiB.

    python bench/streaming.py                      # the full run (about 2-4 minutes on 2 cores)
    python bench/streaming.py --rows 200000 --naive-rows 50000 --rate-seconds 3 --rss-rows 500000   # quick
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
from confluent_kafka import Producer

import genesis_sql
from genesis_sql.streaming import KafkaStreamingGenerator, StreamingConfig, StreamingGenerator
from genesis_sql.streaming.encoding import RowEncoder
from genesis_sql.streaming.kafka import DEFAULT_PRODUCER_CONFIG
from genesis_sql.streaming.mock_broker import MockKafkaBroker

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "diamonds.csv"
MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB


def fit_model(path: Path) -> duckdb.DuckDBPyConnection:
    """A database with the diamonds model fitted on all 53,940 rows."""
    con = duckdb.connect(str(path))
    genesis_sql.install(con)
    genesis_sql.fit(con, "diamonds", f"SELECT * FROM read_csv('{DATA}')", method=METHOD)
    return con


def genesis_kafka(con, bootstrap: str, topic: str, rows: int, *, rate: float | None = None) -> tuple[float, object]:
    """Rows/s of KafkaStreamingGenerator until every message is acknowledged, and its final stats."""
    stream = KafkaStreamingGenerator(con, "diamonds", StreamingConfig(max_rows=rows, seed=1, rate=rate),
                                     bootstrap_servers=bootstrap, topic=topic)
    started = time.perf_counter()
    stream.start_streaming()
    stream.wait()
    stats = stream.stop()
    elapsed = time.perf_counter() - started
    assert stats.delivered == rows and stats.failed == 0, stats
    return rows / elapsed, stats


def naive_kafka(con, bootstrap: str, topic: str, rows: int) -> float:
    """Rows/s of the naive loop: the same rows and producer settings, one dict, json.dumps and produce per row."""
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(max_rows=rows, seed=1))
    failed = 0

    def count_failures(error, message) -> None:
        nonlocal failed
        failed += 1

    producer = Producer({**DEFAULT_PRODUCER_CONFIG, "bootstrap.servers": bootstrap, "on_delivery": count_failures})
    producer.list_topics(topic, timeout=10)
    started = time.perf_counter()
    for table in stream.tables():
        for row in table.to_pylist():
            value = json.dumps(row)
            while True:
                try:
                    producer.produce(topic, value)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(60)
    elapsed = time.perf_counter() - started
    assert left == 0 and failed == 0, (left, failed)
    return rows / elapsed


def stage_rates(con, rows: int) -> tuple[float, float]:
    """Rows/s of generation alone and of JSON encoding alone (50,000-row units, as the sinks encode)."""
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(max_rows=rows, batch_size=50_000, seed=1))
    stream.prepare()
    started = time.perf_counter()
    tables = list(stream.tables())
    generate = rows / (time.perf_counter() - started)
    encoder = RowEncoder(stream.schema)
    started = time.perf_counter()
    for table in tables:
        encoder.encode(table)
    encode = rows / (time.perf_counter() - started)
    encoder.close()
    return generate, encode


def rate_accuracy(con, bootstrap: str, rate: float, seconds: float) -> tuple[float, float]:
    """Achieved rows/s over ``seconds`` from the first delivered slice, and from start_streaming()."""
    stream = KafkaStreamingGenerator(con, "diamonds", StreamingConfig(seed=2, rate=rate), bootstrap_servers=bootstrap,
                                     topic="bench_rate")
    called = time.monotonic()
    stream.start_streaming()
    while stream.stats.total_samples == 0:
        time.sleep(0.001)
    first_rows, first_at = stream.stats.total_samples, time.monotonic()
    time.sleep(seconds)
    rows, now = stream.stats.total_samples, time.monotonic()
    stream.stop()
    return (rows - first_rows) / (now - first_at), rows / (now - called)


def rss_over_stream(con, bootstrap: str, rows: int) -> tuple[float, float, float]:
    """(peak RSS after a tenth of the stream, peak RSS at its end, rows/s) for one long Kafka stream."""
    stream = KafkaStreamingGenerator(con, "diamonds", StreamingConfig(max_rows=rows, seed=3),
                                     bootstrap_servers=bootstrap, topic="bench_rss")
    started = time.perf_counter()
    stream.start_streaming()
    while stream.stats.total_samples < rows // 10 and stream.streaming:
        time.sleep(0.2)
    warm = peak_rss_mib()
    stream.wait()
    stats = stream.stop()
    assert stats.delivered == rows, stats
    return warm, peak_rss_mib(), rows / (time.perf_counter() - started)


# The stream's model: set with --method (default "auto", what users get).
METHOD = "auto"


def main() -> None:
    global METHOD
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default=METHOD, help="synthesizer of the diamonds model (auto, copula, ...)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per genesis throughput run")
    parser.add_argument("--runs", type=int, default=3, help="genesis throughput runs (the median is reported)")
    parser.add_argument("--naive-rows", type=int, default=200_000, help="rows for the naive loop")
    parser.add_argument("--rate", type=float, default=50_000, help="target rows/s for the rate-control run")
    parser.add_argument("--rate-seconds", type=float, default=10.0, help="length of the rate-control run")
    parser.add_argument("--rss-rows", type=int, default=10_000_000, help="rows of the memory run")
    args = parser.parse_args()
    METHOD = args.method

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start; duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory() as folder, MockKafkaBroker() as bootstrap:
        con = fit_model(Path(folder) / "bench.duckdb")
        generate, encode = stage_rates(con, 200_000)
        print(f"stages alone: generation {generate:,.0f} rows/s, JSON encoding {encode:,.0f} rows/s")

        naive = naive_kafka(con, bootstrap, "bench_naive", args.naive_rows)
        rates = []
        for run in range(args.runs):
            achieved, stats = genesis_kafka(con, bootstrap, f"bench_genesis_{run}", args.rows)
            rates.append(achieved)
            print(f"genesis run {run + 1}: {achieved:,.0f} rows/s ({stats.delivered:,} acknowledged, "
                  f"{stats.backpressure_waits} backpressure waits)")
        best, median = max(rates), statistics.median(rates)
        print(f"naive loop: {naive:,.0f} rows/s ({args.naive_rows:,} rows)")
        print(f"genesis into Kafka: median {median:,.0f} rows/s, best {best:,.0f} rows/s "
              f"-> {median / naive:.1f}x naive (target >= 2x), {median / 250_000:.2f}x the 250,000 rows/s target")

        held, overall = rate_accuracy(con, bootstrap, args.rate, args.rate_seconds)
        print(f"rate control at {args.rate:,.0f} rows/s: {held:,.0f} rows/s over {args.rate_seconds:g} s from the "
              f"first row ({abs(held - args.rate) / args.rate:.2%} off; target within 5%); {overall:,.0f} rows/s "
              "counting the start-up from start_streaming()")

        warm, end, throughput = rss_over_stream(con, bootstrap, args.rss_rows)
        print(f"memory over {args.rss_rows:,} rows into Kafka ({throughput:,.0f} rows/s): peak RSS {warm:,.0f} MiB "
              f"after the first tenth, {end:,.0f} MiB at the end -> growth {end - warm:,.0f} MiB (target <= 100 MiB)")
        con.close()
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
