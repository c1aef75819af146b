"""genesis_evaluate in SQL: named parameters, NULL arguments, errors with their class name, idempotent install."""
from __future__ import annotations

import shutil

import duckdb
import pytest

import genesis_sql
from genesis_sql.sql.quality import FUNCTION


def test_genesis_evaluate_returns_the_stored_run_id(con):
    run_id = con.sql("SELECT genesis_evaluate('plain', 'SELECT * FROM diamonds', n := 400, target := 'price')"
                     ).fetchall()[0][0]
    assert con.sql("SELECT model, n_synthetic, target FROM genesis.quality_summary WHERE run_id = ?",
                   params=[run_id]).fetchall() == [("plain", 400, "price")]


def test_positional_nulls_and_a_holdout_query(con):
    run_id = con.sql("SELECT genesis_evaluate('plain', 'SELECT * FROM diamonds LIMIT 2000', NULL, NULL, "
                     "'SELECT * FROM diamonds OFFSET 2000')").fetchall()[0][0]
    assert con.sql("SELECT n_synthetic, dcr_ratio IS NOT NULL FROM genesis.quality_summary WHERE run_id = ?",
                   params=[run_id]).fetchall() == [(2000, True)]


def test_errors_carry_their_class_name_and_store_nothing(con):
    with pytest.raises(duckdb.Error, match="EvaluationError: The columns of the real query do not match"):
        con.sql("SELECT genesis_evaluate('plain', 'SELECT 1 AS one')").fetchall()
    with pytest.raises(duckdb.Error, match="ModelNotFoundError: Unknown model 'nope'"):
        con.sql("SELECT genesis_evaluate('nope', 'SELECT * FROM diamonds')").fetchall()
    assert con.sql("SELECT count(*) FROM genesis.quality_runs").fetchall() == [(0,)]


def test_install_twice_keeps_one_working_function(db_path):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        genesis_sql.install(con)
        assert con.sql("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
                       params=[FUNCTION]).fetchall() == [(1,)]
        run_id = con.sql("SELECT genesis_evaluate('plain', 'SELECT * FROM diamonds', n := 100)").fetchall()[0][0]
        assert con.sql("SELECT n_synthetic FROM genesis.quality_summary WHERE run_id = ?", params=[run_id]
                       ).fetchall() == [(100,)]


@pytest.mark.parametrize("n", ["-5", "2.5", "'many'"])
def test_a_bad_n_is_an_invalid_argument(con, n: str):
    with pytest.raises(duckdb.Error, match="InvalidArgumentError: n must be a whole number"):
        con.sql(f"SELECT genesis_evaluate('plain', 'SELECT * FROM diamonds', n := {n})").fetchall()


def test_through_genesis_connect_on_a_file_named_genesis(db_path, tmp_path):
    # genesis.duckdb is attached under an alias (its catalog would clash with the genesis schema): the
    # UDF's cursor must see that catalog too.
    path = tmp_path / "genesis.duckdb"
    shutil.copyfile(db_path, path)
    with genesis_sql.connect(str(path)) as gcon:
        run_id = gcon.sql("SELECT genesis_evaluate('plain', 'SELECT * FROM diamonds', n := 300)").fetchall()[0][0]
        assert gcon.sql("SELECT model FROM genesis.quality_summary WHERE run_id = ?", params=[run_id]
                        ).fetchall() == [("plain",)]
