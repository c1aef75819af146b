"""Column and pair metrics as rows, and the two properties SDMetrics' report averages."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.fidelity import column_pair_trends_score, column_shapes_score, fidelity_metrics
from genesis_sql.quality.results import MetricResult


def test_every_column_and_pair_gets_its_metrics():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    table = pa.table({"x": x, "y": 2 * x, "c": np.where(x > 0, "pos", "neg")})
    cols = [{"name": "x", "kind": "numeric"}, {"name": "y", "kind": "integer"}, {"name": "c", "kind": "categorical"}]
    metrics = fidelity_metrics(encode_columns({"real": table, "synthetic": table}, cols))
    assert [(m.metric, m.column_1) for m in metrics[:3]] == [
        ("ks_complement", "x"), ("missing_value_similarity", "x"), ("range_coverage", "x")]
    pairs = [(m.metric, m.column_1, m.column_2) for m in metrics if m.category == "column_pair"]
    assert pairs == [("correlation_similarity", "x", "y"), ("contingency_similarity", "x", "c"),
                     ("contingency_similarity", "y", "c")]
    assert all(m.value == 1.0 for m in metrics)


def test_pair_trends_average_only_related_pairs():
    def pair(value: float, related: bool) -> MetricResult:
        return MetricResult("column_pair", "correlation_similarity", value, "a", "b",
                            detail={"meets_threshold": related})

    assert column_pair_trends_score([pair(0.5, True), pair(0.9, True), pair(0.0, False)]) == pytest.approx(0.7)
    assert column_pair_trends_score([pair(0.0, False)]) is None
    shapes = [MetricResult("column_shape", "ks_complement", 0.5, "a"),
              MetricResult.of("column_shape", "ks_complement", float("nan"), reason="all NULL", column_1="b")]
    assert column_shapes_score(shapes) == 0.5
