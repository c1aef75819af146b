"""``genesis generate MODEL N`` without ``--out`` (issue 11, item 8): stdout gets the rows in batches. Not a
terminal (a pipe or a file): all N rows, CSV unless ``--format`` says otherwise; a terminal: a bounded
preview that says how to write everything. (It used to collect every row first: 3.3 GB to print 20 rows
of 30M, a MemoryError for 60M; bench/memory.py measures the 30M-row case.)"""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from genesis_sql.cli import cli

ROWS = 200_000


def genesis_command(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from genesis_sql.cli import main; main()", "--db", str(db), *args]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path.cwd())}


def test_a_pipe_gets_every_row_as_csv(models_db: Path, tmp_path: Path):
    process = subprocess.Popen(genesis_command(models_db, "generate", "diamonds", str(ROWS), "--seed", "1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    out = tmp_path / "piped.csv"
    with open(out, "wb") as sink:  # read as a pipe reader would, chunk by chunk
        while chunk := process.stdout.read(1 << 16):
            sink.write(chunk)
    assert process.wait() == 0, process.stderr.read().decode()[-2000:]
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT price) > 1000 FROM read_csv('{out}')").fetchall() == [
        (ROWS, True)]
    header = out.open().readline().strip()
    assert header == "carat,cut,color,clarity,depth,table,price,x,y,z"


def test_a_file_gets_the_same_rows_as_out(models_db: Path, tmp_path: Path):
    redirected = tmp_path / "redirected.csv"
    with open(redirected, "wb") as sink:
        subprocess.run(genesis_command(models_db, "generate", "diamonds", "5000", "--seed", "2"), stdout=sink,
                       check=True, env=child_env())
    written = tmp_path / "written.csv"
    subprocess.run(genesis_command(models_db, "generate", "diamonds", "5000", "--seed", "2", "--out", str(written)),
                   check=True, env=child_env())
    assert duckdb.sql(f"SELECT * FROM read_csv('{redirected}') EXCEPT ALL "
                      f"SELECT * FROM read_csv('{written}')").fetchall() == []
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{redirected}')").fetchall() == [(5000,)]


def test_jsonl_to_stdout(models_db: Path):
    result = CliRunner().invoke(cli, ["--db", str(models_db), "generate", "diamonds", "3000", "--seed", "1",
                                      "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3000
    assert list(json.loads(lines[0])) == ["carat", "cut", "color", "clarity", "depth", "table", "price", "x", "y",
                                          "z"]


def test_a_terminal_gets_a_bounded_preview_that_says_how_to_write_everything(models_db: Path):
    leader, follower = pty.openpty()
    process = subprocess.Popen(genesis_command(models_db, "generate", "diamonds", "30000000", "--seed", "1"),
                               stdout=follower, stderr=subprocess.PIPE, env=child_env())
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait() == 0, process.stderr.read().decode()[-2000:]
    text = shown.decode()
    assert "│ carat" in text and "┌" in text  # a table for people
    assert "the first 10,000 of 30,000,000 rows" in text
    assert "--out FILE" in text and "> rows.csv" in text


def test_a_table_can_be_asked_for_on_a_pipe(models_db: Path):
    result = CliRunner().invoke(cli, ["--db", str(models_db), "generate", "diamonds", "20000", "--seed", "1",
                                      "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "│ carat" in result.stdout and "the first 10,000 of 20,000 rows" in result.stdout


@pytest.mark.parametrize("args", [["--format", "xml"], ["--format", "csv", "--out", "x.parquet"]])
def test_format_mistakes_are_refused(models_db: Path, args: list[str]):
    result = CliRunner().invoke(cli, ["--db", str(models_db), "generate", "diamonds", "10", *args])
    assert result.exit_code != 0 and "Traceback" not in result.output
