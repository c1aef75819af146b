"""evaluate(): generate, evaluate and store a run from SQL; bad input leaves nothing behind."""
from __future__ import annotations

import re

import pytest

from genesis_sql.errors import EvaluationError, InvalidArgumentError, ModelNotFoundError
from genesis_sql.quality import SAMPLE_ROWS, evaluate

HOLDOUT_METRICS = ("holdout_copy_rate", "dcr_holdout_median", "dcr_ratio", "dcr_overfitting_protection",
                   "membership_inference_auc")


def counts(con) -> tuple[int, int, int]:
    return con.sql("""SELECT (SELECT count(*) FROM genesis.quality_runs),
                             (SELECT count(*) FROM genesis.quality_metrics),
                             (SELECT count(*) FROM genesis.lineage WHERE block_type = 'quality')""").fetchall()[0]


def test_a_run_is_stored_with_the_recorded_holdout(con):
    report = evaluate(con, "diamonds", "SELECT * FROM diamonds", target="price")
    stored = con.sql("SELECT model, model_version, n_real, n_synthetic, seed, overall, holdout_sql, target "
                     "FROM genesis.quality_summary WHERE run_id = ?", params=[report.run_id]).fetchall()
    holdout_sql = con.sql("SELECT holdout ->> 'sql' FROM genesis.models WHERE name = 'diamonds'").fetchall()[0][0]
    rows = con.sql("SELECT count(*) FROM diamonds").fetchall()[0][0]
    assert stored == [("diamonds", 1, rows, min(rows, SAMPLE_ROWS), 0, report.overall,
                       holdout_sql, "price")]
    privacy = dict(con.sql("SELECT metric, available FROM genesis.quality_privacy WHERE run_id = ?",
                           params=[report.run_id]).fetchall())
    assert all(privacy[name] for name in HOLDOUT_METRICS)
    risks = con.sql("SELECT attack, secret_column, risk, relative_to_holdout, holdout_rate, holdout_attacks = attacks "
                    "FROM genesis.quality_risks WHERE run_id = ? ORDER BY position", params=[report.run_id]).fetchall()
    assert [r[:2] for r in risks[:4]] == [("singling_out_univariate", None), ("singling_out_multivariate", None),
                                          ("linkability", None), ("inference", "price")]
    assert all(r[3] is True and r[4] is not None and r[5] for r in risks) and len(risks) == 13
    assert report.scores["utility"] is not None and 0.9 < report.overall <= 1.0
    assert counts(con) == (1, len(report.metrics), 1)


def test_without_a_holdout_the_holdout_metrics_are_stored_unavailable(con):
    report = evaluate(con, "plain", "SELECT * FROM diamonds", n=500)
    rows = con.sql("SELECT metric, value, available, reason FROM genesis.quality_privacy WHERE run_id = ?",
                   params=[report.run_id]).fetchall()
    unavailable = {metric: (value, reason) for metric, value, available, reason in rows if not available}
    assert set(unavailable) == set(HOLDOUT_METRICS)
    assert all(value is None and reason.startswith("no holdout") for value, reason in unavailable.values())
    # The attack-based risks are there, but their holdout baseline is not (never invented).
    risks = con.sql("SELECT risk, attack_rate, holdout_rate, holdout_reason, relative_to_holdout "
                    "FROM genesis.quality_risks WHERE run_id = ?", params=[report.run_id]).fetchall()
    assert len(risks) == 13
    for risk, attack_rate, holdout_rate, reason, relative in risks:
        assert risk == pytest.approx(attack_rate) and holdout_rate is None and relative is False
        assert reason.startswith("no holdout")
    assert report.n_synthetic == 500 and report.scores["privacy_passed"] is None


def test_an_explicit_holdout_query(con):
    report = evaluate(con, "plain", "SELECT * FROM diamonds LIMIT 2400",
                      holdout_sql="SELECT * FROM diamonds OFFSET 2400")
    assert report.scores["dcr_ratio"] is not None and report.holdout_sql == "SELECT * FROM diamonds OFFSET 2400"


@pytest.mark.parametrize("model", ["plain", "diamonds"])
def test_same_model_rows_and_seed_give_the_same_figures(con, model):
    # "diamonds" has a recorded holdout: its training rows are the real rows less the holdout's.
    first = evaluate(con, model, "SELECT * FROM diamonds", n=800)
    second = evaluate(con, model, "SELECT * FROM diamonds", n=800)
    assert first.run_id != second.run_id and first.metrics == second.metrics


@pytest.mark.parametrize("args, error, message", [
    (("no_such_model", "SELECT * FROM diamonds"), ModelNotFoundError, "Unknown model 'no_such_model'"),
    (("plain", "SELECT carat, cut AS kind FROM diamonds"), EvaluationError,
     "The columns of the real query do not match the model (carat, cut, color, clarity, depth, table, price, x, y, z): "
     "it lacks 'cut', 'color'"),
    (("plain", "SELECT * FROM diamonds WHERE carat < 0"), EvaluationError, "The real query returned no rows"),
    (("plain", "SELECT * FROM no_such_table"), EvaluationError, "The real query failed: Catalog Error"),
    (("plain", "SELECT * FROM diamonds", {"target": "prise"}), EvaluationError,
     "Unknown target column 'prise'; the model's columns are carat, cut, color, clarity, depth, table, price, x, y, z. "
     "Did you mean 'price'?"),
    (("plain", "SELECT * FROM diamonds", {"n": 0}), InvalidArgumentError, "n must be a whole number"),
    (("plain", "SELECT * FROM diamonds", {"holdout_sql": "SELECT * FROM diamonds WHERE false"}), EvaluationError,
     "The holdout query returned no rows"),
])
def test_bad_input_is_refused_and_nothing_is_stored(con, args, error, message):
    *positional, options = args if isinstance(args[-1], dict) else (*args, {})
    before = counts(con)
    with pytest.raises(error, match=re.escape(message)):
        evaluate(con, *positional, **options)
    assert counts(con) == before == (0, 0, 0)


def test_an_all_null_and_a_constant_real_column_are_stored_as_unavailable(con):
    report = evaluate(con, "plain", "SELECT * REPLACE (NULL::DOUBLE AS depth, 1.0 AS x) FROM diamonds", n=500)
    rows = con.sql("SELECT column_name, shape, available, reason, coverage FROM genesis.quality_columns "
                   "WHERE run_id = ? AND column_name IN ('depth', 'x') ORDER BY position",
                   params=[report.run_id]).fetchall()
    assert rows[0] == ("depth", None, False, "column 'depth' is NULL in every real row", None)
    assert rows[1][0] == "x" and rows[1][2] is True and rows[1][4] is None  # a constant has no range to cover
    pairs = con.sql("SELECT count(*) FILTER (WHERE NOT available), count(*) FILTER (WHERE reason IS NULL) "
                    "FROM genesis.quality_pairs WHERE run_id = ? AND 'depth' IN (column_1, column_2)",
                    params=[report.run_id]).fetchall()[0]
    assert pairs == (9, 0)  # every pair with depth is unavailable, each with its reason


def test_utility_after_a_holdout_fit_never_trains_on_the_rows_it_tests_on(con):
    """Regression (issue 13): evaluated against the fitting query, the real model trained on rows that
    included the holdout it was tested on (TRTR 0.973, utility 0.468 on a survey table)."""
    report = evaluate(con, "diamonds", "SELECT * FROM diamonds", target="cut")
    utility = next(m for m in report.metrics if m.category == "utility")
    assert utility.detail["train_rows"] == "train" and utility.detail["test_rows"] == "holdout"
    assert utility.detail["protocol"] == "trained on training rows (real minus holdout), tested on the holdout"
    stored = con.sql("SELECT detail ->> 'protocol' FROM genesis.quality_metrics WHERE run_id = ? "
                     "AND category = 'utility'", params=[report.run_id]).fetchall()
    assert stored == [(utility.detail["protocol"],)]
