"""The Python entry points: fit (summary, options, the seeded holdout split) and generate."""
from __future__ import annotations

import json
import subprocess
import sys
import re
from pathlib import Path

import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.errors import FitError, InvalidArgumentError
from tests.conftest import read_csv_sql


@pytest.fixture
def benefits_con(con):
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    return con


def test_fit_returns_a_summary_of_what_it_stored(benefits_con):
    summary = genesis_sql.fit(benefits_con, "Benefits", "SELECT age, state, sex, ui FROM benefits;", method="copula")
    assert (summary.name, summary.version, summary.method, summary.training_rows, summary.holdout_rows) == (
        "benefits", 1, "copula", 4877, 0)
    assert summary.columns == (("age", "integer"), ("state", "integer"), ("sex", "categorical"), ("ui", "boolean"))
    assert re.fullmatch(r"benefits@1: copula on 4,877 rows in \d+\.\d\ds "
                        r"\(age:integer, state:integer, sex:categorical, ui:boolean\)", str(summary))
    stored = benefits_con.execute("SELECT training_rows, source_sql FROM genesis.models").fetchall()
    assert stored == [(4877, "SELECT age, state, sex, ui FROM benefits;")]


def test_column_types_override_detection(benefits_con):
    summary = genesis_sql.fit(benefits_con, "b", "SELECT age, state FROM benefits", column_types={"state": "categorical"})
    assert summary.columns == (("age", "integer"), ("state", "categorical"))
    states = set(genesis_sql.generate(benefits_con, "b", 2000, seed=1).column("state").to_pylist())
    seen = {r[0] for r in benefits_con.execute("SELECT DISTINCT state FROM benefits").fetchall()}
    assert states <= seen and len(states) > 30  # categories: only codes that exist, never in-between numbers


def test_the_holdout_split_is_seeded_and_can_be_re_derived(benefits_con):
    con = benefits_con
    first = genesis_sql.fit(con, "h", "SELECT * FROM benefits", holdout=0.2, seed=4)
    assert first.training_rows + first.holdout_rows == 4877
    assert first.holdout_rows == pytest.approx(0.2 * 4877, rel=0.1)
    again = genesis_sql.fit(con, "h", "SELECT * FROM benefits", holdout=0.2, seed=4)
    other = genesis_sql.fit(con, "h", "SELECT * FROM benefits", holdout=0.2, seed=5)
    assert (again.training_rows, again.holdout_rows) == (first.training_rows, first.holdout_rows)
    assert other.training_rows + other.holdout_rows == 4877
    records = con.execute("SELECT version, holdout, source_fingerprint FROM genesis.models ORDER BY version").fetchall()
    (_, h1, f1), (_, h2, f2), (_, h3, f3) = records
    assert f1 == f2 != f3  # the same seed trains on the same rows; another seed on other rows
    holdout = json.loads(h1)
    assert (holdout["fraction"], holdout["seed"], holdout["rows"]) == (0.2, 4, first.holdout_rows)
    held = con.sql(holdout["sql"]).to_arrow_table()
    assert held.num_rows == first.holdout_rows
    all_rows = con.sql("SELECT * FROM benefits").to_arrow_table()
    assert held.schema == all_rows.schema
    assert con.sql(json.loads(h3)["sql"]).to_arrow_table() != held


@pytest.mark.parametrize("holdout", [0, 1, 1.5, -0.1, True, "0.2"])
def test_bad_holdout_fractions_are_refused(benefits_con, holdout):
    with pytest.raises(InvalidArgumentError, match=re.escape(
            f"holdout must be a fraction between 0 and 1, such as 0.2. Got {holdout!r}.")):
        genesis_sql.fit(benefits_con, "h", "SELECT * FROM benefits", holdout=holdout)


def test_fit_refuses_bad_input_with_clear_messages(benefits_con):
    con = benefits_con
    with pytest.raises(FitError, match=re.escape(
            "The training query must be SQL text such as 'SELECT * FROM customers'. Got '   '.")):
        genesis_sql.fit(con, "m", "   ")
    with pytest.raises(InvalidArgumentError, match=re.escape("seed for fit must be a whole number (0 by default), not NULL.")):
        genesis_sql.fit(con, "m", "SELECT * FROM benefits", seed=None)
    with pytest.raises(InvalidArgumentError, match=re.escape("column_types must map column names to kinds")):
        genesis_sql.fit(con, "m", "SELECT * FROM benefits", column_types=["age"])
    with pytest.raises(FitError, match=re.escape("The training query returned no rows after the holdout split")):
        genesis_sql.fit(con, "m", "SELECT * FROM benefits LIMIT 1", holdout=0.5, seed=2)
    assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]


def test_generate_returns_an_arrow_table_of_n_rows(benefits_con):
    genesis_sql.fit(benefits_con, "benefits", "SELECT * FROM benefits")
    table = genesis_sql.generate(benefits_con, "benefits", 1500, seed=2)
    assert isinstance(table, pa.Table) and table.num_rows == 1500
    assert table.equals(benefits_con.sql("SELECT * FROM genesis_generate('benefits', 1500, seed := 2)").to_arrow_table())
    plan = genesis_sql.plan(benefits_con, "benefits", 1500, seed=2, condition="age > 50")
    assert (plan.ref, plan.n, plan.seed, plan.condition_sql) == ("benefits@1", 1500, 2, '"age" > 50')
    over_50 = genesis_sql.generate(benefits_con, "benefits", 300, seed=2, condition="age > 50")
    assert over_50.num_rows == 300 and min(over_50.column("age").to_pylist()) > 50
    assert over_50.equals(benefits_con.sql(
        "SELECT * FROM genesis_generate('benefits', 300, seed := 2, condition := 'age > 50')").to_arrow_table())


def test_a_training_query_may_end_in_a_comment(benefits_con):
    summary = genesis_sql.fit(benefits_con, "c", "SELECT age FROM benefits -- just the ages")
    assert summary.training_rows == 4877


@pytest.mark.parametrize("source", ["temp", "dataframe"])
def test_fit_from_a_temp_table_or_a_registered_dataframe(con, source):
    frame = con.sql(read_csv_sql("economics")).df()
    if source == "temp":
        con.execute(f"CREATE TEMP TABLE econ_rows AS {read_csv_sql('economics')}")
    else:
        con.register("econ_rows", frame)
    assert genesis_sql.fit(con, "econ", "SELECT * FROM econ_rows").training_rows == 478


def test_a_fit_that_fails_leaves_no_model(con, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    con.execute(f"CREATE TABLE econ AS {read_csv_sql('economics')}")
    monkeypatch.setenv("GENESIS_LINEAGE_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(genesis_sql.GenesisError):
        genesis_sql.fit(con, "econ", "SELECT * FROM econ")
    assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]


def test_installing_and_generating_leave_the_heavy_fitting_and_metric_libraries_unimported(tmp_path: Path):
    """Every CLI command imports genesis and installs it: scikit-learn and the quality metrics (about two
    seconds of imports) load only when a forest is fitted or an evaluation runs."""
    script = f"""
import sys, duckdb, genesis_sql
con = duckdb.connect({str(tmp_path / 'g.duckdb')!r})
genesis_sql.install(con)
con.execute("CREATE TABLE t AS SELECT range AS a, range % 3 AS b FROM range(100)")
genesis_sql.fit(con, "m", "SELECT * FROM t", method="copula")
genesis_sql.generate(con, "m", 10)
print(sorted(m for m in ("sklearn", "genesis_sql.quality") if m in sys.modules))
"""
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    assert callable(genesis_sql.evaluate)


def test_old_conditions_keyword_still_works_with_a_deprecation_warning(benefits_con) -> None:
    genesis_sql.fit(benefits_con, "benefits", "SELECT age, state, sex FROM benefits", method="copula")
    with pytest.warns(DeprecationWarning, match="condition="):
        old = genesis_sql.generate(benefits_con, "benefits", 50, seed=3, conditions="age > 50")
    assert old.equals(genesis_sql.generate(benefits_con, "benefits", 50, seed=3, condition="age > 50"))
    with pytest.raises(genesis_sql.GenesisError, match="once"):
        genesis_sql.generate(benefits_con, "benefits", 5, condition="age > 50", conditions="age > 50")


def test_skip_unchanged_keeps_the_version_fitted_on_the_same_rows(benefits_con) -> None:
    source = "SELECT age, state, sex FROM benefits"
    first = genesis_sql.fit(benefits_con, "b", source, method="copula", skip_unchanged=True)
    again = genesis_sql.fit(benefits_con, "b", source, skip_unchanged=True)
    assert (again.version, again.method, again.columns) == (1, "copula", first.columns)
    assert genesis_sql.fit(benefits_con, "b", source, method="arf", skip_unchanged=True).version == 2
    benefits_con.execute("UPDATE benefits SET age = age + 1 WHERE state = 93")
    assert genesis_sql.fit(benefits_con, "b", source, skip_unchanged=True).version == 3
    assert genesis_sql.fit(benefits_con, "b", source).version == 4
    with pytest.raises(InvalidArgumentError, match="skip_unchanged"):
        genesis_sql.fit(benefits_con, "b", source, skip_unchanged="yes")


def test_auto_says_which_method_it_chose_and_why(benefits_con) -> None:
    summary = genesis_sql.fit(benefits_con, "few", "SELECT age, state, sex FROM benefits LIMIT 150")
    assert summary.reason == ("auto chose copula: under 200 rows (150) or fewer than two modelled columns is too "
                              "little for the forest")
    assert str(summary).endswith(summary.reason)
    compared = genesis_sql.fit(benefits_con, "more", "SELECT age, state, sex FROM benefits")
    assert re.fullmatch(r"auto chose (arf|copula): its sample is closest to the training rows "
                        r"\(similarity arf 0\.\d{4}, copula 0\.\d{4}\)", compared.reason)
    assert genesis_sql.fit(benefits_con, "named", "SELECT age, state FROM benefits", method="copula").reason == ""
