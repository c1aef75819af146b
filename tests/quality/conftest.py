"""Fixtures for the quality tests: real DuckDB files with fitted models and a stored run."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import genesis_sql

DIAMONDS_ROWS = 3000


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A DuckDB file with 3,000 diamonds, a model fitted on them with a 20% holdout, and one without."""
    path = tmp_path_factory.mktemp("quality") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{data_dir / 'diamonds.csv'}') "
                    f"LIMIT {DIAMONDS_ROWS}")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", holdout=0.2)
        genesis_sql.fit(con, "plain", "SELECT * FROM diamonds")
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template database."""
    path = tmp_path / "quality.duckdb"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def con(db_path: Path):
    """A genesis connection to ``db_path``."""
    connection = duckdb.connect(str(db_path))
    genesis_sql.install(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def run_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with one stored run of ``diamonds`` (target price, recorded holdout): (path, run id)."""
    from genesis_sql.quality import evaluate

    path = tmp_path_factory.mktemp("runs") / "run.duckdb"
    shutil.copyfile(template_db, path)
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        run_id = evaluate(con, "diamonds", "SELECT * FROM diamonds", target="price").run_id
    return path, run_id
