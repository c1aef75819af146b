"""Fixtures for the dashboard tests: an app over a real DuckDB file holding a stored quality run."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.server import create_app


@pytest.fixture(scope="session")
def run_template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, str]:
    """A database with 2,000 diamonds, a model fitted with a holdout, and one evaluation: (path, run id)."""
    from genesis_sql.quality import evaluate

    path = tmp_path_factory.mktemp("server") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{data_dir / 'diamonds.csv'}') LIMIT 2000")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", holdout=0.2)
        run_id = evaluate(con, "diamonds", "SELECT * FROM diamonds", target="price").run_id
    return path, run_id


@pytest.fixture
def db_path(run_template: tuple[Path, str], tmp_path: Path) -> Path:
    """A fresh copy of the template database."""
    path = tmp_path / "dashboard.duckdb"
    shutil.copyfile(run_template[0], path)
    return path


@pytest.fixture
def run_id(run_template: tuple[Path, str]) -> str:
    """The id of the stored run."""
    return run_template[1]


@pytest.fixture
def app(db_path: Path):
    """The dashboard app over ``db_path``, waiting at most 0.3 s for a held database."""
    return create_app({"TESTING": True, "DATABASE": str(db_path), "LOCK_RETRY_SECONDS": 0.3})


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def held_database(db_path: Path) -> Iterator[subprocess.Popen]:
    """Another process that holds ``db_path`` open (and so its lock) until the test ends."""
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read(); con.close()")
    process = subprocess.Popen([sys.executable, "-c", code, str(db_path)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    yield process
    process.stdin.close()
    process.wait(timeout=30)
