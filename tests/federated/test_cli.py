"""``genesis federated simulate`` through click's CliRunner."""
from __future__ import annotations

import duckdb
from click.testing import CliRunner

from genesis_sql.cli import cli
from tests.conftest import read_csv_sql


def test_simulate_registers_a_model_and_bad_input_is_one_line(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    con.close()
    result = CliRunner().invoke(cli, ["--db", db, "federated", "simulate", "SELECT * FROM benefits", "--name",
                                      "fed_cli", "--sites", "2", "--non-iid", "sex"])
    assert result.exit_code == 0, result.output
    assert "fed_cli@1: copula on 4,877 rows" in result.output and "rounds" in result.output
    bad = CliRunner().invoke(cli, ["--db", db, "federated", "simulate", "SELECT * FROM benefits", "--name",
                                   "fed_bad", "--sites", "1"])
    assert bad.exit_code == 1 and "InvalidArgumentError: n_sites must be" in bad.output
    con = duckdb.connect(db)
    assert con.sql("SELECT name FROM genesis.models").fetchall() == [("fed_cli",)]
    con.close()
