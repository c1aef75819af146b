"""Shared fixtures: the real data sets, fresh installed DuckDB files, and files with fitted models.

The real data sets live beside the project in ``../shared/data`` (CI clones the repository with
``../shared`` next to it). Fitting is the slow part, so fitted models are made once per session in a
template file that no test opens; tests get their own copy (``models_db``) or share one read-mostly
connection to another copy (``models_con``).

DuckDB keeps one database instance per file and process, and genesis functions live in that instance, so
a test never opens a second connection to a file that a fixture connection holds.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import genesis_sql

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
# The shared diamonds model is fitted on every fifth row (10,788 rows): enough for the fidelity checks,
# quick to fit, and spread over the whole file (which is ordered by price).
DIAMONDS_EVERY = 5


def read_csv_sql(name: str) -> str:
    """SQL that reads one of the shared real data sets (``diamonds``, ``Benefits``, ``movies`` ...)."""
    return f"SELECT * FROM read_csv('{DATA / (name + '.csv')}', header = true)"


def diamonds_sample_sql() -> str:
    """Every fifth row of diamonds, a fixed and representative sample."""
    return (f"SELECT * EXCLUDE (genesis_row) FROM (SELECT *, row_number() OVER () AS genesis_row "
            f"FROM ({read_csv_sql('diamonds')})) WHERE genesis_row % {DIAMONDS_EVERY} = 1")


def arrow_with_types(sql: str) -> tuple[pa.Table, dict[str, str]]:
    """The rows of ``sql`` (run in a private in-memory DuckDB) and each column's DuckDB type."""
    con = duckdb.connect()
    try:
        rel = con.sql(sql)
        types = {name: str(t) for name, t in zip(rel.columns, rel.types)}
        return rel.to_arrow_table(), types
    finally:
        con.close()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of the shared real data sets."""
    assert DATA.is_dir(), f"the shared data sets are missing: expected {DATA} (../shared/data beside the repo)"
    return DATA


@pytest.fixture(scope="session")
def installed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with the genesis catalog installed and nothing else; copied, never opened by tests."""
    path = tmp_path_factory.mktemp("installed") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
    return path


@pytest.fixture
def db_path(installed_template: Path, tmp_path: Path) -> Path:
    """A fresh DuckDB file in tmp_path with the genesis catalog installed."""
    path = tmp_path / "fresh.duckdb"
    shutil.copyfile(installed_template, path)
    return path


@pytest.fixture
def con(db_path: Path):
    """A genesis connection to a fresh installed file (closed after the test)."""
    connection = duckdb.connect(str(db_path))
    genesis_sql.install(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def models_template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A file with the real tables and a copula fitted on each: diamonds (every fifth row), benefits,
    movies (every third film) and economics. Tables keep the training rows so tests can compare against them.
    The method is named: the copula is the foundation's synthesizer, and ``auto`` may choose another."""
    path = tmp_path_factory.mktemp("models") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS {diamonds_sample_sql()}")
        con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
        con.execute(f"CREATE TABLE movies AS SELECT * EXCLUDE (r) FROM (SELECT *, row_number() OVER () AS r "
                    f"FROM ({read_csv_sql('movies')})) WHERE r % 3 = 0")
        con.execute(f"CREATE TABLE economics AS {read_csv_sql('economics')}")
        for name in ("diamonds", "benefits", "movies", "economics"):
            genesis_sql.fit(con, name, f"SELECT * FROM {name}", method="copula")
    return path


@pytest.fixture
def models_db(models_template: Path, tmp_path: Path) -> Path:
    """A private copy of the fitted-models file, for tests that change it."""
    path = tmp_path / "models.duckdb"
    shutil.copyfile(models_template, path)
    return path


@pytest.fixture(scope="session")
def models_con(models_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """One session-wide genesis connection to a copy of the fitted-models file. Tests only read through it
    (a test that changes a setting puts it back)."""
    path = tmp_path_factory.mktemp("shared") / "models.duckdb"
    shutil.copyfile(models_template, path)
    connection = duckdb.connect(str(path))
    genesis_sql.install(connection)
    yield connection
    connection.close()
