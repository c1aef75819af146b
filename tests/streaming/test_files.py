"""File sink (rotation, formats DuckDB reads back) and queue sink (order, backpressure, end marker)."""
from __future__ import annotations

import json
import time

import duckdb
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.lineage import LineageChain
from genesis_sql.streaming import FileStreamingGenerator, QueueStreamingGenerator, StreamingConfig

READERS = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_rotated_files_hold_the_stream_in_order(con, tmp_path, fmt):
    config = StreamingConfig(batch_size=700, max_rows=2500, seed=6)
    stream = FileStreamingGenerator(con, "diamonds", config, directory=tmp_path / "out", format=fmt, rotate_rows=1000)
    stream.start_streaming()
    assert stream.wait(60)
    stats = stream.stop()

    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"diamonds-00000{i}.{fmt}" for i in range(3)]
    reader = READERS[fmt]
    counts = [duckdb.sql(f"SELECT count(*) FROM {reader}('{tmp_path / 'out' / name}')").fetchall()[0][0]
              for name in names]
    assert counts == [1000, 1000, 500] and stats.delivered == 2500
    written = duckdb.sql(f"SELECT * FROM {reader}('{tmp_path / 'out'}/*.{fmt}', filename = true) "
                         "ORDER BY filename").to_arrow_table().drop(["filename"])
    expected = genesis_sql.generate(con, "diamonds", 2500, seed=6)
    assert written.column("price").to_pylist() == expected.column("price").to_pylist()
    assert written.column("cut").to_pylist() == expected.column("cut").to_pylist()


def test_jsonl_lines_are_the_kafka_messages(con, tmp_path):
    stream = FileStreamingGenerator(con, "economics", StreamingConfig(max_rows=40, seed=1), directory=tmp_path,
                                    format="jsonl")
    stream.start_streaming().wait(30)
    stream.stop()
    lines = (tmp_path / "economics-000000.jsonl").read_text().splitlines()
    assert [json.loads(line)["date"] for line in lines] == \
        [d.isoformat() for d in genesis_sql.generate(con, "economics", 40, seed=1).column("date").to_pylist()]


def test_files_are_not_overwritten(con, tmp_path):
    (tmp_path / "diamonds-000000.parquet").write_bytes(b"earlier")
    stream = FileStreamingGenerator(con, "diamonds", StreamingConfig(max_rows=10), directory=tmp_path)
    with pytest.raises(InvalidArgumentError, match="already exists"):
        stream.start_streaming()
    assert (tmp_path / "diamonds-000000.parquet").read_bytes() == b"earlier"


def test_stopping_an_endless_stream_closes_the_open_file(con, tmp_path):
    out = tmp_path / "out"
    stream = FileStreamingGenerator(con, "diamonds", StreamingConfig(batch_size=500, seed=2), directory=out,
                                    rotate_rows=10**9)
    stream.start_streaming()
    while stream.stats.total_samples < 1500:
        time.sleep(0.02)
    stats = stream.stop()
    assert [p.name for p in out.iterdir()] == ["diamonds-000000.parquet"]
    rows = duckdb.sql(f"SELECT count(*) FROM '{out}/diamonds-000000.parquet'").fetchall()[0][0]
    assert rows == stats.total_samples == stats.delivered
    assert list(LineageChain(con).blocks())[-1].payload["n"] == rows


def test_bad_format_is_named(con, tmp_path):
    with pytest.raises(InvalidArgumentError, match="format must be one of parquet, csv, jsonl. Got 'xlsx'"):
        FileStreamingGenerator(con, "diamonds", directory=tmp_path, format="xlsx").start_streaming()


def test_queue_sink_hands_over_every_batch_in_order(con):
    stream = QueueStreamingGenerator(con, "diamonds", StreamingConfig(batch_size=400, max_rows=2000, seed=7),
                                     maxsize=1)
    stream.start_streaming()
    time.sleep(0.3)  # the consumer is late: the stream waits on the full queue
    batches = list(stream)
    stats = stream.stop()
    assert [b.num_rows for b in batches] == [400] * 5
    assert pa.Table.from_batches(batches).equals(genesis_sql.generate(con, "diamonds", 2000, seed=7))
    assert stats.backpressure_waits > 0 and stats.delivered == 2000


def test_queue_consumer_ends_when_the_stream_is_stopped(con):
    stream = QueueStreamingGenerator(con, "diamonds", StreamingConfig(batch_size=100, seed=1), maxsize=2)
    stream.start_streaming()
    first = next(iter(stream))
    stream.stop()
    rest = list(stream)
    assert first.num_rows == 100 and len(rest) <= 2
