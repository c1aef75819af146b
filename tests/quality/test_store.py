"""A run is stored completely or not at all."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest

from genesis_sql.quality.results import MetricResult, QualityReport
from genesis_sql.quality.store import json_ready, save_run


def report(*metrics: MetricResult) -> QualityReport:
    return QualityReport(overall=0.5, scores={"column_shapes": float("nan")}, metrics=list(metrics), model="plain",
                         model_version=1, real_sql="SELECT 1", n_real=1, n_synthetic=1)


def test_a_run_and_its_metrics_are_stored_together(con):
    metric = MetricResult("detection", "logistic_detection", 0.9, detail={"auc": np.float64(0.55)})
    stored = save_run(con, report(metric))
    assert stored.run_id and stored.created_at is not None
    assert con.sql("SELECT scores FROM genesis.quality_runs").fetchall() == [('{"column_shapes":null}',)]
    assert con.sql("SELECT metric, value, detail, position FROM genesis.quality_metrics").fetchall() == [
        ("logistic_detection", 0.9, '{"auc":0.55}', 0)]


def test_a_failing_metric_row_leaves_no_run(con):
    good = MetricResult("detection", "logistic_detection", 0.9)
    broken = MetricResult(None, "no_category", 0.1)  # violates quality_metrics.category NOT NULL
    with pytest.raises(duckdb.ConstraintException):
        save_run(con, report(good, broken))
    assert con.sql("SELECT (SELECT count(*) FROM genesis.quality_runs), "
                   "(SELECT count(*) FROM genesis.quality_metrics)").fetchall() == [(0, 0)]


def test_json_ready():
    assert json_ready({"a": [np.int64(1), float("inf")], "b": (np.float32(0.5),)}) == {"a": [1, None], "b": [0.5]}
