"""Exact copies, NNDR, overfitting protection, membership inference, and unavailability without a holdout."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.privacy import (
    copied_value_rate,
    exact_copy_rate,
    membership_inference_auc,
    nndr,
    overfitting_protection,
    privacy_metrics,
)

COLUMNS = [{"name": "x", "kind": "numeric"}, {"name": "c", "kind": "categorical"}]


def test_exact_copy_rate_treats_nulls_as_equal_and_checks_every_column():
    train = pa.table({"x": [1.0, 2.0, None], "c": ["p", "q", None]})
    rows = pa.table({"x": [1.0, 2.0, None, 1.0], "c": ["p", "p", None, None]})
    assert exact_copy_rate(rows, train) == 0.5


def test_copied_value_rate_ignores_nulls_and_compares_across_types():
    assert copied_value_rate(pa.chunked_array([["a", "b", None, "a"]]), pa.chunked_array([["a"]])) == 2 / 3
    assert copied_value_rate(pa.chunked_array([[1, 2]]), pa.chunked_array([["2"]])) == 0.5


def test_nndr_and_overfitting_protection_by_hand():
    assert nndr(np.array([[1.0, 4.0], [0.0, 0.0], [2.0, 2.0]])).tolist() == [0.25, 0.0, 1.0]
    # Three of four synthetic rows closer to training rows: score 2 * (1 - 3/4) = 0.5.
    score, closer = overfitting_protection(np.array([0.1, 0.1, 0.1, 0.9]), np.array([0.5, 0.5, 0.5, 0.5]))
    assert (score, closer) == (0.5, 0.75)


def test_membership_inference_auc():
    assert membership_inference_auc(np.array([0.0, 0.0]), np.array([1.0, 1.0])) == 1.0
    assert membership_inference_auc(np.array([0.2, 0.4]), np.array([0.2, 0.4])) == 0.5


def test_privacy_metrics_are_unavailable_without_a_holdout_never_invented():
    rng = np.random.default_rng(0)
    train = pa.table({"x": rng.normal(size=200), "c": rng.choice(list("pq"), 200)})
    synthetic = pa.table({"x": rng.normal(size=100), "c": rng.choice(list("pq"), 100)})
    columns = encode_columns({"train": train, "synthetic": synthetic}, COLUMNS)
    results = privacy_metrics(columns, synthetic=synthetic, train=train, holdout=None,
                              rows={"train": np.arange(200), "synthetic": np.arange(100)})
    by_name = {m.metric: m for m in results}
    assert by_name["exact_copy_rate"].value == 0.0 and by_name["dcr_synthetic_median"].available
    for name in ("holdout_copy_rate", "dcr_holdout_median", "dcr_ratio", "dcr_overfitting_protection",
                 "membership_inference_auc"):
        assert by_name[name].available is False and by_name[name].value is None
        assert "no holdout" in by_name[name].detail["reason"]


def test_copied_training_rows_are_caught_with_a_holdout():
    rng = np.random.default_rng(1)
    population = pa.table({"x": rng.normal(size=600), "c": rng.choice(list("pqrs"), 600)})
    train, holdout = population.slice(0, 300), population.slice(300)
    copies = train.slice(0, 200)
    columns = encode_columns({"train": train, "synthetic": copies, "holdout": holdout}, COLUMNS)
    rows = {"train": np.arange(300), "synthetic": np.arange(200), "holdout": np.arange(300)}
    by_name = {m.metric: m.value for m in privacy_metrics(columns, synthetic=copies, train=train, holdout=holdout,
                                                          rows=rows)}
    assert by_name["exact_copy_rate"] == 1.0 and by_name["holdout_copy_rate"] == 0.0
    assert by_name["dcr_synthetic_median"] == 0.0 and by_name["dcr_ratio"] == 0.0
    assert by_name["dcr_overfitting_protection"] == 0.0
    assert by_name["membership_inference_auc"] > 0.8
