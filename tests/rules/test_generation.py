"""Generated rows keep every rule, with and without conditions; rules are listed, stored and explained."""
from __future__ import annotations

import json
import time

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.errors import FitError, GenesisError, InfeasibleConditionError, InvalidArgumentError
from tests.conftest import diamonds_sample_sql, read_csv_sql
from tests.rules.test_detect import planted


@pytest.fixture
def planted_con(con):
    con.register("planted_arrow", planted(600))
    con.execute("CREATE TABLE planted AS SELECT * FROM planted_arrow")
    con.unregister("planted_arrow")
    return con


def _kept(df):
    return {
        "equal": (df.a_copy == df.a).mean(),
        "offset": np.isclose(df.shifted, df.a + 7.5, rtol=0, atol=1e-9).mean(),
        "sum": np.isclose(df.total, df.a + df.b, rtol=0, atol=1e-9).mean(),
        "function": (df.label == df.code.map({"A1": "alpha", "B2": "beta", "C3": "gamma", "D4": "delta"})).mean(),
        "order": (df.diag <= df.death).mean(),
    }


@pytest.mark.parametrize("method", ["arf", "copula"])
@pytest.mark.parametrize("condition", [None, "a > 55", "label = 'beta'", "death > diag + 365", "total < 60 AND code IN ('A1', 'C3')"])
def test_every_rule_kind_holds_in_every_generated_row(planted_con, method, condition):
    genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method=method, seed=0)
    df = genesis_sql.generate(planted_con, "p", 800, seed=3, condition=condition).to_pandas()
    assert len(df) == 800
    assert all(share == 1.0 for share in _kept(df).values()), _kept(df)
    if condition == "death > diag + 365":
        assert (df.death > df.diag + 365).all()


def test_rules_off_keeps_none_of_them(planted_con):
    genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method="copula", seed=0, rules="off")
    df = genesis_sql.generate(planted_con, "p", 800, seed=3).to_pandas()
    assert _kept(df)["equal"] < 0.5
    assert planted_con.sql("SELECT rules FROM genesis_models()").fetchall() == [([],)]


def test_sql_options_declare_rules_and_switch_detection_off(planted_con):
    planted_con.execute("""SELECT genesis_fit('p', 'SELECT * FROM planted', method := 'copula',
        options := '{"rules": "off", "constraints": "diag <= death AND a_copy = a"}')""").fetchall()
    rules = planted_con.sql("SELECT rules FROM genesis_models()").fetchall()[0][0]
    assert rules == ['"diag" <= "death" (declared)', '"a_copy" = "a" (declared)']
    df = planted_con.sql("SELECT * FROM genesis_generate('p', 1000, seed := 1)").df()
    assert (df.diag <= df.death).all() and (df.a_copy == df.a).all()


def test_detected_rules_are_listed_and_logged(planted_con, caplog):
    with caplog.at_level("INFO", logger="genesis_sql.rules"):
        genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method="copula", seed=0)
    rules = planted_con.sql("SELECT rules FROM genesis_models()").fetchall()[0][0]
    assert '"total" = "a" + "b" (detected)' in rules
    assert '"total" = "a" + "b" (detected)' in caplog.text


def test_a_declared_rule_that_training_rows_break_is_a_fit_error_and_stores_nothing(planted_con):
    with pytest.raises(FitError, match=r"broken by [\d,]+ of 600 training rows"):
        genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", constraints="a < b")
    assert planted_con.sql("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]


def test_bad_rules_option_is_refused(planted_con):
    with pytest.raises(InvalidArgumentError, match="rules must be"):
        genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", rules="sometimes")


@pytest.mark.parametrize("condition", ["a_copy != a", "diag > death", "label = 'beta' AND code = 'A1'"])
def test_a_condition_contradicting_a_rule_names_the_rule(planted_con, condition):
    genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method="copula", seed=0)
    with pytest.raises(InfeasibleConditionError, match="rule"):
        genesis_sql.generate(planted_con, "p", 10, seed=1, condition=condition)
    with pytest.raises(duckdb.Error, match="InfeasibleConditionError"):
        planted_con.sql(f"SELECT count(*) FROM genesis_generate('p', 10, condition := '{condition.replace(chr(39), chr(39) * 2)}')").fetchall()


def test_a_model_stored_before_rules_keeps_loading(planted_con):
    genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method="copula", seed=0)
    expected = genesis_sql.generate(planted_con, "p", 50, seed=1)
    from genesis_sql.catalog import load_model

    record = load_model(planted_con, "p")
    record.state.pop("rules")  # as fit stored it before rules existed
    planted_con.execute("UPDATE genesis.models SET state = ?, content_hash = ?",
                        [json.dumps(record.state), record.compute_content_hash()])

    rows = genesis_sql.generate(planted_con, "p", 50, seed=1)
    assert rows.num_rows == 50
    assert rows.column_names == expected.column_names
    assert planted_con.sql("SELECT rules FROM genesis_models()").fetchall() == [([],)]


def test_survival_dates_keep_their_order_and_a_condition_between_them_returns_n_rows(con):
    rng = np.random.default_rng(5)
    diag = np.datetime64("2001-01-01") + rng.integers(0, 3000, 2000).astype("timedelta64[D]")
    death = diag + rng.gamma(2.0, 300, 2000).astype(int).astype("timedelta64[D]")
    con.register("survival_arrow", pa.table({"diag": diag, "death": death, "age": rng.integers(30, 90, 2000)}))
    con.execute("CREATE TABLE survival AS SELECT * FROM survival_arrow")
    genesis_sql.fit(con, "s", "SELECT * FROM survival", seed=0)
    df = con.sql("SELECT * FROM genesis_generate('s', 3000, seed := 2)").df()
    assert (df.diag <= df.death).all()
    df = con.sql("SELECT * FROM genesis_generate('s', 2000, seed := 2, condition := 'death > diag + 365')").df()
    assert len(df) == 2000 and ((df.death - df.diag).dt.days > 365).all()


def test_the_shared_planted_diamonds_keep_equality_and_order_under_a_condition(con):
    con.execute(f"CREATE TABLE planted AS SELECT *, x AS x_again, depth - carat / 10 AS depth_lo "
                f"FROM ({diamonds_sample_sql()})")
    genesis_sql.fit(con, "planted", "SELECT * FROM planted", seed=0)
    df = con.sql("SELECT * FROM genesis_generate('planted', 3000, seed := 1, condition := 'carat > 1')").df()
    assert len(df) == 3000 and (df.carat > 1).all()
    assert (df.x == df.x_again).all() and (df.depth_lo <= df.depth).all()


@pytest.mark.parametrize("condition", ["false", "1 = 0", "NULL", "depth > price"])
def test_impossible_conditions_fail_for_count_and_explain_as_for_select(con, condition):
    genesis_sql.fit(con, "d", diamonds_sample_sql(), method="copula", seed=0)
    for sql in (f"SELECT * FROM genesis_generate('d', 10000, condition := '{condition}')",
                f"SELECT count(*) FROM genesis_generate('d', 10, condition := '{condition}')",
                f"EXPLAIN SELECT * FROM genesis_generate('d', 10, condition := '{condition}')"):
        started = time.monotonic()
        with pytest.raises(duckdb.Error, match="(InfeasibleCondition|ConditionSyntax)Error"):
            con.sql(sql).fetchall()
        assert time.monotonic() - started < 60  # bounded: decided without generating


def test_an_impossible_comparison_names_the_ranges_and_a_closest_alternative(con):
    genesis_sql.fit(con, "d", diamonds_sample_sql(), method="copula", seed=0)
    with pytest.raises(InfeasibleConditionError, match=r"ranges over .* closest condition .*depth.* > .*price.* - "):
        genesis_sql.generate(con, "d", 10, seed=1, condition="depth > price")


def test_a_rare_condition_between_columns_is_refused_with_its_estimate(con):
    genesis_sql.fit(con, "d", diamonds_sample_sql(), method="copula", seed=0)
    with pytest.raises(GenesisError, match=r"estimated probability .* draws"):
        genesis_sql.generate(con, "d", 10, seed=1, condition="x > y + 3")


def test_genesis_describe_lists_each_columns_rules(planted_con):
    genesis_sql.fit(planted_con, "p", "SELECT * FROM planted", method="copula", seed=0,
                    constraints="diag <= death")
    rules = dict(planted_con.sql("SELECT name, rules FROM genesis_describe('p')").fetchall())
    assert '"diag" <= "death" (declared)' in rules["death"]
    assert '"total" = "a" + "b" (detected)' in rules["total"]
