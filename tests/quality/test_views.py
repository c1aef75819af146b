"""Stored runs read back through the quality views."""
from __future__ import annotations

import itertools

import duckdb
import pytest

from genesis_sql.errors import RunNotFoundError
from genesis_sql.quality.views import RunData, list_models, list_runs

MODEL_COLUMNS = ["carat", "cut", "color", "clarity", "depth", "table", "price", "x", "y", "z"]


@pytest.fixture
def view_con(run_db):
    path, _ = run_db
    with duckdb.connect(str(path), read_only=True) as connection:
        yield connection


def test_a_run_reads_back_in_the_model_order(view_con, run_db):
    run = RunData.load(view_con, run_db[1])
    assert run.run_id == run_db[1] and run.summary["model"] == "diamonds" and run.summary["target"] == "price"
    assert [c["column_name"] for c in run.columns] == MODEL_COLUMNS
    assert run.columns[0]["distribution"]["kind"] == "histogram" and run.columns[1]["distribution"]["kind"] == "bar"
    assert [(p["column_1"], p["column_2"]) for p in run.pairs] == list(itertools.combinations(MODEL_COLUMNS, 2))
    assert {p["source"] for p in run.projection} == {"real", "synthetic"}
    assert [p["metric"] for p in run.privacy][:2] == ["exact_copy_rate", "holdout_copy_rate"]
    # The attack-based risks read back from genesis.quality_risks, not among the other privacy rows.
    assert not any(p["metric"].endswith("_risk") for p in run.privacy)
    assert [(k["attack"], k["secret_column"]) for k in run.risks] == [
        ("singling_out_univariate", None), ("singling_out_multivariate", None), ("linkability", None),
        *(("inference", name) for name in ["price", *(c for c in MODEL_COLUMNS if c != "price")])]
    for k in run.risks:
        assert k["available"] and k["relative_to_holdout"] and k["confidence"] == 0.95
        assert k["risk_low"] <= k["risk"] <= k["risk_high"] and 0 <= k["random_rate"] <= 1
        assert k["holdout_rate_low"] <= k["holdout_rate"] <= k["holdout_rate_high"] and k["holdout_reason"] is None
        assert k["detail"]["successes"] == k["successes"]
    assert run.summary["scores"]["sample_rows"]["fidelity"] == 50_000


def test_summary_view_carries_the_headline_figures(view_con, run_db):
    row = view_con.sql("SELECT overall, column_shapes, column_pair_trends, utility, utility_task, exact_copy_rate, "
                       "dcr_ratio, privacy_passed FROM genesis.quality_summary").fetchall()[0]
    overall, shapes, pairs, utility, task, copies, ratio, passed = row
    assert overall == pytest.approx((shapes + pairs) / 2)
    assert task == "regression" and 0 < utility <= 1 and copies == 0.0 and ratio > 0.5 and passed is True


def test_summary_view_carries_each_attack_s_risk(view_con, run_db):
    columns = ["singling_out_univariate_risk", "singling_out_multivariate_risk", "linkability_risk", "inference_risk",
               "inference_risk_column"]
    summary = view_con.sql(f"SELECT {', '.join(columns)} FROM genesis.quality_summary").fetchall()[0]
    risks = view_con.sql("SELECT attack, secret_column, risk FROM genesis.quality_risks ORDER BY position").fetchall()
    by_attack = {attack: risk for attack, _, risk in risks[:3]}
    worst = max(risks[3:], key=lambda r: r[2])
    assert summary == (by_attack["singling_out_univariate"], by_attack["singling_out_multivariate"],
                       by_attack["linkability"], worst[2], worst[1])


def test_models_and_runs_lists(view_con, run_db):
    assert [r["run_id"] for r in list_runs(view_con)] == [run_db[1]]
    assert list_runs(view_con, model="other") == []
    (model,) = list_models(view_con)
    assert model["model"] == "diamonds" and model["runs"] == 1 and model["latest_run_id"] == run_db[1]


def test_an_unknown_run_is_named(view_con):
    with pytest.raises(RunNotFoundError, match="No quality run has id 'nope'"):
        RunData.load(view_con, "nope")


def test_json_form_has_no_python_objects(view_con, run_db):
    import json

    assert json.loads(json.dumps(RunData.load(view_con, run_db[1]).to_json()))["summary"]["model"] == "diamonds"
