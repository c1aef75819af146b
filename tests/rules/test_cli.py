"""The command line shows the rules a fit found, and the rules of each model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

GENESIS = [sys.executable, "-c", "from genesis_sql.cli import main; main()"]


def test_fit_prints_the_rules_it_found_and_models_lists_them(db_path: Path):
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS a, range + 5 AS b, range * 2 AS c FROM range(300)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    fit = subprocess.run([*GENESIS, "--db", str(db_path), "fit", "t", "--sql", "SELECT * FROM t", "--method", "copula"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert fit.returncode == 0, fit.stderr
    assert 'rule: "b" = "a" + 5 (detected)' in fit.stderr
    listed = subprocess.run([*GENESIS, "--db", str(db_path), "sql", "SELECT unnest(rules) AS rule FROM genesis_models()"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0 and '"b" = "a" + 5' in listed.stdout
