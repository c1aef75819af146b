"""A small fitted file for the concurrency tests: 2,000 diamonds rows and a copula and a forest on them."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from tests.conftest import read_csv_sql

TRAINING = "SELECT * FROM gems"


@pytest.fixture(scope="session")
def gems_template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A file with 2,000 diamonds rows and the models ``gems`` (copula) and ``gems_arf`` (forest)."""
    path = tmp_path_factory.mktemp("gems") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE gems AS SELECT * FROM ({read_csv_sql('diamonds')}) USING SAMPLE 2000 ROWS "
                    "(reservoir, 7)")
        genesis_sql.fit(con, "gems", TRAINING, method="copula")
        genesis_sql.fit(con, "gems_arf", TRAINING, method="arf")
    return path


@pytest.fixture
def gems_db(gems_template: Path, tmp_path: Path) -> Path:
    """A private copy of the gems file."""
    path = tmp_path / "gems.duckdb"
    shutil.copyfile(gems_template, path)
    return path
