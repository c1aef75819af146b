"""``genesis generate --out`` is atomic (issue 11, item 5): killed with SIGKILL in the middle of writing, it
leaves no file at the final name (a file that read cleanly as a fraction of the rows, or a Parquet file
without a footer, used to be left there), and a file already there keeps its old content."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from genesis_sql.cli import cli

FORMATS = ["csv", "jsonl", "parquet"]


def started_writing(folder: Path, process: subprocess.Popen, at_least: int = 256 * 1024) -> bool:
    """Wait until some file in ``folder`` holds ``at_least`` bytes while the process still runs."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.stat().st_size >= at_least for p in folder.iterdir() if p.is_file()):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("suffix", FORMATS)
def test_kill_9_while_writing_leaves_nothing_at_the_final_name(models_db: Path, tmp_path: Path, suffix: str):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"rows.{suffix}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from genesis_sql.cli import main; main()", "--db", str(models_db), "generate",
         "diamonds", "50000000", "--seed", "1", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    try:
        writing = started_writing(folder, process)
    finally:
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    assert writing, stderr.decode()[-2000:]
    assert not out.exists()


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_complete_write_leaves_only_the_file_and_replaces_an_old_one(models_db: Path, tmp_path: Path,
                                                                      suffix: str):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / f"rows.{suffix}"
    out.write_text("old content\n")
    result = CliRunner().invoke(cli, ["--db", str(models_db), "generate", "diamonds", "3000", "--seed", "1",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in folder.iterdir()] == [out.name]
    reader = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}[suffix]
    assert duckdb.sql(f"SELECT count(*) FROM {reader}('{out}')").fetchall() == [(3000,)]


def test_a_failed_write_leaves_nothing(models_db: Path, tmp_path: Path):
    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(cli, ["--db", str(models_db), "generate", "diamonds", "3000", "--seed", "1",
                                      "--where", "carat > 100", "--out", str(folder / "rows.csv")])
    assert result.exit_code == 1
    assert list(folder.iterdir()) == []
