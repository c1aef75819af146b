"""Fitting and generating inside the caller's transaction: lineage commits or rolls back with the data it
describes (issue 12 item 4), and a model never exists without its fit block (issue 11 item 4)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import ModelNotFoundError

TRAINING = "SELECT * FROM gems"


def blocks(con: duckdb.DuckDBPyConnection, kind: str, model: str) -> int:
    return con.execute("SELECT count(*) FROM genesis.lineage WHERE block_type = ? AND json_extract_string(content, "
                       "'$.model') = ?", [kind, model]).fetchall()[0][0]


def models(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute("SELECT count(*) FROM genesis.models WHERE name = ?", [name]).fetchall()[0][0]


def verified(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall()[0][0]


@pytest.fixture
def con(gems_db: Path):
    connection = genesis_sql.install(duckdb.connect(str(gems_db)))
    yield connection
    connection.close()


def test_a_rolled_back_fit_leaves_no_model_and_no_block(con) -> None:
    con.execute("BEGIN")
    genesis_sql.fit(con, "tx", TRAINING, method="copula")
    assert models(con, "tx") == 1
    con.execute("ROLLBACK")
    assert models(con, "tx") == 0 and blocks(con, "fit", "tx") == 0
    assert verified(con)


def test_a_committed_fit_leaves_one_block_and_generates_inside_its_transaction(con) -> None:
    con.execute("BEGIN")
    genesis_sql.fit(con, "tx", TRAINING, method="copula")
    inside = genesis_sql.generate(con, "tx", 100, seed=1)
    con.execute("COMMIT")
    assert blocks(con, "fit", "tx") == 1 and blocks(con, "generation", "tx") == 1
    assert con.sql("SELECT * FROM genesis_generate('tx', 100, seed := 1)").to_arrow_table().equals(inside)
    assert verified(con)


def test_generation_lineage_rolls_back_and_commits_with_the_transaction(con) -> None:
    con.execute("BEGIN")
    genesis_sql.generate(con, "gems", 50, seed=1)
    con.execute("ROLLBACK")
    assert blocks(con, "generation", "gems") == 0
    con.execute("BEGIN")
    genesis_sql.generate(con, "gems", 50, seed=1)
    con.execute("COMMIT")
    assert blocks(con, "generation", "gems") == 1
    assert verified(con)


@pytest.mark.parametrize("end", ["COMMIT", "ROLLBACK"])
def test_a_failing_genesis_call_leaves_the_transaction_usable(con, end: str) -> None:
    con.execute("BEGIN")
    genesis_sql.fit(con, "tx", TRAINING, method="copula")
    with pytest.raises(ModelNotFoundError):
        genesis_sql.generate(con, "no_such_model", 10)
    con.execute(end)
    kept = 1 if end == "COMMIT" else 0
    assert models(con, "tx") == kept and blocks(con, "fit", "tx") == kept and blocks(con, "source", "tx") == kept
    assert verified(con)


def test_a_failing_sql_statement_takes_the_fit_and_its_blocks_with_the_transaction(con) -> None:
    con.execute("BEGIN")
    genesis_sql.fit(con, "tx", TRAINING, method="copula")
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM genesis_generate('no_such_model', 10)").fetchall()
    con.execute("COMMIT")  # DuckDB ends a transaction that had a failed statement without committing it
    assert models(con, "tx") == 0 and blocks(con, "fit", "tx") == 0 and blocks(con, "source", "tx") == 0
    assert verified(con)


def test_a_crash_between_storing_the_model_and_its_lineage_leaves_neither(gems_db: Path) -> None:
    code = (f"import os, duckdb, genesis_sql\n"
            "from genesis_sql.lineage import store\n"
            "def crash(*args, **kwargs):\n    os._exit(3)\n"
            "store.append_in_transaction = crash\n"
            "store.append = crash\n"
            f"con = genesis_sql.install(duckdb.connect({str(gems_db)!r}))\n"
            f"genesis_sql.fit(con, 'crashed', {TRAINING!r}, method='copula')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr[-2000:]
    con = genesis_sql.install(duckdb.connect(str(gems_db)))
    try:
        assert models(con, "crashed") == 0 and blocks(con, "fit", "crashed") == 0
        assert verified(con)
    finally:
        con.close()
