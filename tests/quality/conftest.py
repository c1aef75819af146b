"""Fixtures for the quality tests: small hand-made tables and real DuckDB files with fitted models."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import genesis_sql

# The shared real data sets sit next to the project: ../shared/data.
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DIAMONDS_ROWS = 3000


def read_csv_sql(name: str) -> str:
    """SQL that reads one of the shared real data sets."""
    return f"SELECT * FROM read_csv('{DATA / (name + '.csv')}', header = true)"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with 3,000 diamonds, a model fitted on them with a 20% holdout, and one without."""
    path = tmp_path_factory.mktemp("quality") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS {read_csv_sql('diamonds')} LIMIT {DIAMONDS_ROWS}")
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
