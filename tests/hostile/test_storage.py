"""Storage that refuses writes (issue 11, item 7): a read-only database still generates (lineage is
skipped with a warning, since nothing can be written there) and refuses fits and drops clearly; a disk
that fills up during a fit is reported as such (it used to hide behind "cannot rollback"), with the
catalog left as it was."""
from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql import catalog
from genesis_sql.errors import CatalogError, LineageNotRecordedWarning
from tests.hostile.conftest import snapshot


def lineage_blocks(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM genesis.lineage").fetchall()[0][0]


def test_a_read_only_database_generates_and_says_lineage_was_skipped(models_db: Path, tmp_path: Path):
    blocks = lineage_blocks(models_db)
    with duckdb.connect(str(models_db), read_only=True) as con:
        genesis_sql.install(con)
        with pytest.warns(LineageNotRecordedWarning, match="read-only.*diamonds@1"):
            table = genesis_sql.generate(con, "diamonds", 100, seed=1)
        assert table.num_rows == 100
        assert len(con.execute("SELECT * FROM genesis_generate('diamonds', 10, seed := 1)").fetchall()) == 10
    assert lineage_blocks(models_db) == blocks


def test_a_read_only_database_refuses_fit_and_drop_clearly(models_db: Path):
    with duckdb.connect(str(models_db), read_only=True) as con:
        genesis_sql.install(con)
        before = snapshot(con)
        with pytest.raises(CatalogError, match=r"read-only.*cannot store the model 'again'"):
            genesis_sql.fit(con, "again", "SELECT * FROM economics", method="copula")
        with pytest.raises(CatalogError, match=r"read-only.*cannot drop 'economics'"):
            catalog.drop_model(con, "economics")
        with pytest.raises(duckdb.Error, match=r"CatalogError: .*read-only"):
            con.execute("SELECT genesis_drop('economics')").fetchall()
        assert snapshot(con) == before


class DiskFullAtCommit:
    """A connection whose COMMIT fails the way a full disk fails it: the write-ahead log cannot be written,
    DuckDB ends the transaction, and a ROLLBACK afterwards finds none ("cannot rollback")."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args):
        if sql.strip().upper() == "COMMIT":
            self._con.execute("ROLLBACK")
            raise duckdb.IOException('IO Error: Could not write file "models.duckdb.wal": No space left on device')
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_disk_full_at_commit_is_reported_not_hidden_behind_rollback(models_db: Path):
    with duckdb.connect(str(models_db)) as con:
        genesis_sql.install(con)
        before = snapshot(con)
        with pytest.raises(CatalogError, match=r"No space left on device.*nothing was stored"):
            genesis_sql.fit(DiskFullAtCommit(con), "econ", "SELECT * FROM economics", method="copula")
        assert snapshot(con) == before


def test_disk_full_while_writing_the_arrays_is_reported(models_db: Path, monkeypatch: pytest.MonkeyPatch):
    def full(array):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(catalog, "encode_array", full)
    with duckdb.connect(str(models_db)) as con:
        genesis_sql.install(con)
        before = snapshot(con)
        with pytest.raises(CatalogError, match=r"No space left on device.*nothing was stored"):
            genesis_sql.fit(con, "econ", "SELECT * FROM economics", method="copula")
        assert snapshot(con) == before
