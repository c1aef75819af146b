"""Conditions that ask for what training never showed: named in the log and in explain, refused when rare.

A value an ``=`` / ``IN`` names that a column never took, and a combination of two few-valued columns'
values that no training row has (Benefits has no row with state 15 and a seasonal job that ended).
"""
from __future__ import annotations

import logging

import duckdb
import pytest

import genesis_sql
from genesis_sql.connection import GenesisConnection
from genesis_sql.errors import RareConditionError
from genesis_sql.generation.plan import plan_generation

PLAN_LOG = "genesis_sql.generation.plan"
NEVER_TOGETHER = "no training row has \"state\" = 15 together with \"joblost\" = 'seasonal_job_ended'"


def test_an_unseen_combination_is_generated_and_named_in_the_log(models_con, caplog) -> None:
    # A condition no other test plans: the warning is logged once per model version and condition.
    with caplog.at_level(logging.WARNING, logger=PLAN_LOG):
        rows = genesis_sql.generate(models_con, "benefits", 200, seed=1,
                                    condition="state = 15 AND joblost = 'seasonal_job_ended' AND age > 21")
    assert rows.num_rows == 200
    assert set(rows.column("state").to_pylist()) == {15}
    assert NEVER_TOGETHER in caplog.text and "extrapolation" in caplog.text


def test_explain_names_what_training_never_showed(models_con) -> None:
    explained = GenesisConnection(models_con).explain(
        "SELECT * FROM genesis_generate('benefits', 100) WHERE joblost = 'seasonal_job_ended' AND state = 15")
    assert "never showed" in explained and NEVER_TOGETHER in explained
    given = GenesisConnection(models_con).explain(
        "SELECT * FROM genesis_generate('benefits', 100, condition := 'state IN (93, 99) AND age > 30')")
    assert "benefits: \"state\" = 99 never occurs in training" in given


@pytest.mark.parametrize("condition", [
    "age > 50 AND state = 93",
    "state = 93 AND joblost = 'seasonal_job_ended'",
    "state IN (15, 93) AND joblost = 'seasonal_job_ended'",  # one of the pairs was seen
    "sex = 'female' AND married AND dkids AND NOT dykids",
    "rr BETWEEN 0.2 AND 0.9 AND tenure < 3",
])
def test_ordinary_conditions_raise_no_warning(models_con, caplog, condition: str) -> None:
    with caplog.at_level(logging.WARNING, logger=PLAN_LOG):
        plan_generation(models_con, "benefits", 10, seed=2, condition=condition)
    assert "never showed" not in caplog.text
    explained = GenesisConnection(models_con).explain(
        f"SELECT * FROM genesis_generate('benefits', 10) WHERE {condition}")
    assert "never showed" not in explained


def test_values_never_seen_are_named(models_con, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger=PLAN_LOG):
        plan_generation(models_con, "diamonds", 10, seed=3,
                        condition="cut IN ('Fair', 'Flawless') AND carat IN (1.01, 7)")
    assert "\"cut\" = 'Flawless' never occurs in training" in caplog.text


@pytest.fixture(scope="module")
def neighbours():
    """Categories a0..a4 and b0..b4 where b is a itself, or a neighbour in 4% of rows: a0 never goes with b2,
    b3 or b4, and the copula puts next to nothing on a0 with b4."""
    con = genesis_sql.install(duckdb.connect())
    con.execute("CREATE TABLE t AS SELECT 'a' || k AS a, 'b' || least(4, greatest(0, k + CASE (i // 5) % 50 "
                "WHEN 0 THEN 1 WHEN 1 THEN -1 ELSE 0 END)) AS b FROM (SELECT i, i % 5 AS k FROM range(5000) r(i))")
    genesis_sql.fit(con, "t", "SELECT * FROM t", method="copula")
    yield con
    con.close()


def test_an_unseen_combination_the_model_finds_too_rare_is_refused(neighbours) -> None:
    with pytest.raises(RareConditionError, match=r"below the 1e-06 floor.*Never seen in training: no training "
                                                 r"row has \"a\" = 'a0' together with \"b\" = 'b4'"):
        genesis_sql.generate(neighbours, "t", 10, condition="a = 'a0' AND b = 'b4'")
    assert genesis_sql.generate(neighbours, "t", 10, condition="a = 'a0' AND b = 'b1'").num_rows == 10


def test_dp_models_learn_no_combinations(neighbours, caplog) -> None:
    genesis_sql.fit(neighbours, "t_dp", "SELECT * FROM t", method="dp", epsilon=5.0,
                    public_bounds={"a": [f"a{k}" for k in range(5)], "b": [f"b{k}" for k in range(5)]})
    plan, synthesizer = plan_generation(neighbours, "t_dp", 10, seed=1, condition="a = 'a0' AND b = 'b1'")
    assert synthesizer.seen_ is None and "seen" not in synthesizer.to_state()[0]
