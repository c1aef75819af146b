"""``genesis stream``: each destination end to end through click's CliRunner."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from genesis_sql.cli import cli
from tests.streaming.conftest import rows_of


def _stream(db_path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "stream", "diamonds", *args])


def test_files_with_rotation(db_path, tmp_path):
    out = tmp_path / "events"
    result = _stream(db_path, "--out", str(out), "--format", "csv", "--rotate-rows", "1000", "--max-rows", "2500",
                     "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "streamed 2,500 rows of diamonds@1 (seed 3) to" in result.output
    assert sorted(p.name for p in out.iterdir()) == [f"diamonds-00000{i}.csv" for i in range(3)]
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{out}/*.csv')").fetchall() == [(2500,)]


def test_kafka_with_condition_key_and_passed_through_settings(db_path, kafka_bootstrap, topic, consume):
    result = _stream(db_path, "--kafka", kafka_bootstrap, "--topic", topic, "--max-rows", "3000",
                     "--where", "price > 1000", "--key", "cut", "-X", "linger.ms=5", "--rate", "20000")
    assert result.exit_code == 0, result.output
    assert f"to kafka://{kafka_bootstrap}/{topic}" in result.output
    records = consume(topic, 3000)
    assert len(records) == 3000
    assert all(row["price"] > 1000 and record.key.decode() == row["cut"]
               for record, row in zip(records, rows_of(records)))
    with duckdb.connect(str(db_path)) as con:
        (content,) = con.execute("SELECT content FROM genesis.lineage ORDER BY seq DESC LIMIT 1").fetchall()[0]
    assert '"n":3000' in content and f"kafka://{kafka_bootstrap}/{topic}" in content


def test_websocket_streams_to_nobody_and_reports_its_address(db_path):
    result = _stream(db_path, "--websocket", "127.0.0.1:0", "--max-rows", "200", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "streamed 200 rows of diamonds@1 (seed 1) to ws://127.0.0.1:" in result.output


@pytest.mark.parametrize(("args", "message"), [
    ([], "Choose one destination"),
    (["--out", "x", "--websocket", "127.0.0.1:1"], "Choose one destination"),
    (["--kafka", "127.0.0.1:9092"], "--kafka needs --topic"),
    (["--out", "x", "--cluster", "tcp://127.0.0.1:1", "--max-rows", "10"], "--cluster streams to Kafka"),
    (["--kafka", "127.0.0.1:9092", "--topic", "t", "--cluster", "tcp://127.0.0.1:1"],
     "--cluster streams a bounded number of rows: give --max-rows N"),
    (["--kafka", "127.0.0.1:9092", "--topic", "t", "--cluster", "tcp://127.0.0.1:1", "--max-rows", "10",
      "--batch-size", "500"], "--batch-size is for a single-process stream"),
])
def test_destination_usage_errors(db_path, args, message):
    result = _stream(db_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_bad_requests_are_one_line_errors(db_path, tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "stream", "diamond", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: ModelNotFoundError: Unknown model 'diamond'" in result.output
    result = _stream(db_path, "--out", str(tmp_path), "--rate", "-3")
    assert result.exit_code == 1 and "rate must be a positive number" in result.output


def test_sigterm_stops_an_unbounded_stream_and_keeps_every_row(db_path, tmp_path):
    out = tmp_path / "events"
    genesis = Path(sys.executable).with_name("genesis")
    process = subprocess.Popen([str(genesis), "--db", str(db_path), "stream", "diamonds", "--out", str(out),
                                "--format", "csv", "--rate", "2000", "--seed", "5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and any(out.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    streamed = int(re.search(r"streamed ([\d,]+) rows", stdout).group(1).replace(",", ""))
    assert streamed > 0
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{out}/*.csv')").fetchall() == [(streamed,)]
