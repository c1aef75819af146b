"""Opening DuckDB files: bounded retries on a lock held by another process, and genesis.duckdb files."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql import _db
from genesis_sql._install import open_database
from genesis_sql.errors import CatalogError, DatabaseLockedError, GenesisError
from tests.conftest import read_csv_sql

# A second process that opens the file, says so, and holds it until told to let go (a line on stdin).
HOLD = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.readline()"


@contextlib.contextmanager
def held(path: Path) -> Iterator[subprocess.Popen]:
    """Another real process holding ``path`` open for the duration of the block (or until released)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        release(proc)


def release(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=60)


def locked_message(path: Path, seconds: int) -> str:
    return (f"The database {str(path)!r} is held by another process (waited {seconds} s). Stop that process (a "
            "dashboard, stream or server owns its file while it runs) or retry; GENESIS_LOCK_RETRY_SECONDS sets how "
            "long to wait.")


def test_a_held_file_is_retried_for_a_bounded_time_then_refused_clearly(db_path: Path):
    with held(db_path):
        started = time.monotonic()
        with pytest.raises(DatabaseLockedError, match=re.escape(locked_message(db_path, 1))) as info:
            _db.connect_with_retry(str(db_path), retry_seconds=1)
        waited = time.monotonic() - started
    assert 1.0 <= waited < 15
    assert isinstance(info.value, GenesisError)
    assert isinstance(info.value.__cause__, duckdb.Error)  # DuckDB's own error is kept as the cause


def test_a_lock_released_within_the_window_is_waited_for(db_path: Path):
    with held(db_path) as holder:
        threading.Timer(1.0, release, [holder]).start()
        started = time.monotonic()
        con = _db.connect_with_retry(str(db_path), retry_seconds=60)
        waited = time.monotonic() - started
    try:
        assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]
    finally:
        con.close()
    assert waited >= 0.5


def test_the_cli_retries_then_exits_with_a_one_line_error(db_path: Path):
    genesis = Path(sys.executable).parent / "genesis"
    env = {**os.environ, "GENESIS_LOCK_RETRY_SECONDS": "1"}
    with held(db_path):
        done = subprocess.run([str(genesis), "--db", str(db_path), "models"], capture_output=True, text=True,
                              env=env, timeout=120)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == f"Error: DatabaseLockedError: {locked_message(db_path, 1)}"


def test_open_database_always_closes(db_path: Path):
    with pytest.raises(ZeroDivisionError):
        with open_database(str(db_path)) as con:
            opened = con
            1 / 0
    with pytest.raises(duckdb.ConnectionException):
        opened.execute("SELECT 1")


GENESIS_FILE_MESSAGE = (
    "This database's catalog is named 'genesis' (from a file named genesis.duckdb), which makes the schema genesis.* "
    "ambiguous in DuckDB. Open it with genesis_sql.connect(path), which attaches it under another name, or use "
    "another file name.")


def test_a_file_named_genesis_duckdb_opened_plainly_is_explained(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "genesis.duckdb")) as con:
        with pytest.raises(CatalogError, match=re.escape(GENESIS_FILE_MESSAGE)):
            genesis_sql.install(con)


def test_genesis_duckdb_files_open_through_the_attach_alias(tmp_path: Path):
    path = str(tmp_path / "genesis.duckdb")
    with open_database(path) as con:
        assert con.execute("SELECT current_database()").fetchall() == [(_db.ATTACH_ALIAS,)]
        con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
        genesis_sql.fit(con, "econ", "SELECT * FROM econ")
        assert con.execute("SELECT name, version FROM genesis.models").fetchall() == [("econ", 1)]
        cur = _db.cursor(con)  # cursors see the same catalog
        assert cur.execute("SELECT count(*) FROM genesis.models").fetchall() == [(1,)]
        cur.close()
        rows = con.sql("SELECT * FROM genesis_generate('econ', 50, seed := 1)").fetchall()
    with open_database(path) as con:  # everything went to the file, under its own name
        assert con.sql("SELECT * FROM genesis_generate('econ', 50, seed := 1)").fetchall() == rows
        assert con.execute("SELECT count(*) FROM econ").fetchall() == [(478,)]
    with genesis_sql.connect(path) as gcon:  # the way the error message above recommends
        assert gcon.sql("SELECT count(*) FROM genesis.models").fetchall() == [(1,)]
