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
    assert run.summary["scores"]["sample_rows"]["fidelity"] == 50_000


def test_summary_view_carries_the_headline_figures(view_con, run_db):
    row = view_con.sql("SELECT overall, column_shapes, column_pair_trends, utility, utility_task, exact_copy_rate, "
                       "dcr_ratio, privacy_passed FROM genesis.quality_summary").fetchall()[0]
    overall, shapes, pairs, utility, task, copies, ratio, passed = row
    assert overall == pytest.approx((shapes + pairs) / 2)
    assert task == "regression" and 0 < utility <= 1 and copies == 0.0 and ratio > 0.5 and passed is True


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
