"""QualityEvaluator on hand-made tables: scores, unavailable metrics with reasons, and bad input."""
from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.errors import EvaluationError, GenesisError
from genesis_sql.quality import QualityEvaluator

COLUMNS = [{"name": "x", "kind": "numeric"}, {"name": "y", "kind": "numeric"},
           {"name": "c", "kind": "categorical"}, {"name": "flag", "kind": "boolean"}, {"name": "key", "kind": "id"}]


def make(rng: np.random.Generator, size: int = 600) -> pa.Table:
    x = rng.normal(size=size)
    c = rng.choice(["a", "b", "c"], size)
    return pa.table({"x": x, "y": 3 * x + rng.normal(scale=0.5, size=size), "c": c,
                     "flag": c == "a", "key": [f"k{i}" for i in range(size)]})


def test_identical_tables_score_one():
    table = make(np.random.default_rng(0))
    report = QualityEvaluator(COLUMNS).evaluate(table, table)
    assert report.overall == 1.0
    assert report.scores["column_shapes"] == 1.0 and report.scores["column_pair_trends"] == 1.0
    assert report.scores["coverage"] == 1.0 and report.scores["missing_values"] == 1.0
    assert report.scores["detection"] > 0.9
    assert report.scores["exact_copy_rate"] == 1.0
    assert report.value("privacy", "copied_value_rate", "key") == 1.0
    # Identifier columns take part in no fidelity metric.
    assert {m.column_1 for m in report.select("column_shape")} == {"x", "y", "c", "flag"}


def test_disjoint_categories_score_zero():
    rng = np.random.default_rng(1)
    real = make(rng)
    synthetic = real.set_column(2, "c", pa.array(["z"] * real.num_rows))
    report = QualityEvaluator(COLUMNS).evaluate(real, synthetic)
    assert report.value("column_shape", "tv_complement", "c") == 0.0
    assert report.value("coverage", "category_coverage", "c") == 0.0


def test_same_seed_same_report_other_seed_other_samples():
    rng = np.random.default_rng(2)
    real, synthetic = make(rng), make(rng)
    first = QualityEvaluator(COLUMNS, seed=3).evaluate(real, synthetic)
    assert QualityEvaluator(COLUMNS, seed=3).evaluate(real, synthetic) == first
    assert QualityEvaluator(COLUMNS, seed=4).evaluate(real, synthetic).scores["detection"] != first.scores["detection"]


def test_all_null_column_is_unavailable_with_a_reason():
    rng = np.random.default_rng(3)
    real = make(rng)
    real = real.set_column(1, "y", pa.nulls(real.num_rows, pa.float64()))
    report = QualityEvaluator(COLUMNS).evaluate(real, make(rng))
    shape = report.select("column_shape", "ks_complement")[1]
    assert shape.column_1 == "y" and shape.value is None and not shape.available
    assert shape.detail["reason"] == "column 'y' is NULL in every real row"
    assert report.value("missing_values", "missing_value_similarity", "y") == 0.0
    pair = next(m for m in report.select("column_pair") if m.column_2 == "y")
    assert not pair.available and "NULL in every real row" in pair.detail["reason"]
    assert report.scores["column_shapes"] is not None


def test_constant_column_keeps_its_shape_and_loses_its_correlations():
    rng = np.random.default_rng(4)
    real, synthetic = make(rng), make(rng)
    real = real.set_column(1, "y", pa.array(np.full(real.num_rows, 7.0)))
    synthetic = synthetic.set_column(1, "y", pa.array(np.full(synthetic.num_rows, 7.0)))
    report = QualityEvaluator(COLUMNS).evaluate(real, synthetic)
    assert report.value("column_shape", "ks_complement", "y") == 1.0
    corr = next(m for m in report.select("column_pair", "correlation_similarity"))
    assert not corr.available and "constant" in corr.detail["reason"]
    assert not report.select("coverage", "range_coverage")[1].available


def test_columns_that_do_not_match_are_named():
    table = make(np.random.default_rng(5))
    other = table.rename_columns(["x", "Y", "c", "flag", "extra"])
    message = ("The columns of the synthetic rows do not match the model (x, y, c, flag, key): it lacks 'y' "
               "(found 'Y'?), 'key'; it has columns the model does not: 'Y', 'extra'.")
    with pytest.raises(EvaluationError, match=re.escape(message)):
        QualityEvaluator(COLUMNS).evaluate(table, other)


def test_a_column_of_the_wrong_type_is_named():
    table = make(np.random.default_rng(6))
    text = table.set_column(0, "x", pa.array([str(v) for v in table.column("x").to_pylist()]))
    with pytest.raises(EvaluationError, match="column 'x' is string, but the model has a number there"):
        QualityEvaluator(COLUMNS).evaluate(text, table)


def test_empty_tables_are_refused():
    table = make(np.random.default_rng(7))
    with pytest.raises(EvaluationError, match="The real rows are empty"):
        QualityEvaluator(COLUMNS).evaluate(table.slice(0, 0), table)
    with pytest.raises(EvaluationError, match="The synthetic rows are empty"):
        QualityEvaluator(COLUMNS).evaluate(table, table.slice(0, 0))


def test_every_column_null_is_refused():
    columns = [{"name": "x", "kind": "numeric"}]
    nulls = pa.table({"x": pa.nulls(5, pa.float64())})
    with pytest.raises(EvaluationError, match="Every column is NULL in every real row"):
        QualityEvaluator(columns).evaluate(nulls, pa.table({"x": [1.0]}))


@pytest.mark.parametrize("target, message", [
    ("z", "Unknown target column 'z'; the model's columns are x, y, c, flag, key."),
    ("key", "Target column 'key' is a id column; a target must be numeric"),
    ("Y", "Unknown target column 'Y'; the model's columns are x, y, c, flag, key. Did you mean 'y'?"),
])
def test_unusable_targets_are_refused(target: str, message: str):
    table = make(np.random.default_rng(8))
    with pytest.raises(GenesisError, match=re.escape(message)):
        QualityEvaluator(COLUMNS, target=target).evaluate(table, table)


def test_constant_target_is_refused():
    table = make(np.random.default_rng(9))
    constant = table.set_column(0, "x", pa.array(np.ones(table.num_rows)))
    with pytest.raises(EvaluationError, match="Target column 'x' is constant in the real rows"):
        QualityEvaluator(COLUMNS, target="x").evaluate(constant, table)


def test_utility_with_a_target_and_unavailable_without():
    rng = np.random.default_rng(10)
    real, synthetic = make(rng), make(rng)
    with_target = QualityEvaluator(COLUMNS, target="y").evaluate(real, synthetic)
    (utility,) = with_target.select("utility")
    assert utility.available and utility.detail["task"] == "regression" and utility.value > 0.8
    (none,) = QualityEvaluator(COLUMNS).evaluate(real, synthetic).select("utility")
    assert not none.available and "no target column" in none.detail["reason"]
