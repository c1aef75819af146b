"""MetricResult and QualityReport."""
from __future__ import annotations

from genesis_sql.quality.results import MetricResult, QualityReport


def test_nan_becomes_unavailable_with_its_reason():
    result = MetricResult.of("privacy", "dcr_ratio", float("nan"), reason="no holdout", detail={"rows": 3})
    assert (result.value, result.available, result.detail) == (None, False, {"rows": 3, "reason": "no holdout"})
    assert MetricResult.of("privacy", "dcr_ratio", 1.5, reason="unused").detail == {}


def test_report_lookups():
    metrics = [MetricResult("column_shape", "ks_complement", 0.9, "a"),
               MetricResult("column_shape", "tv_complement", 0.8, "b")]
    report = QualityReport(overall=0.85, scores={}, metrics=metrics)
    assert report.get_score() == 0.85
    assert report.value("column_shape", "tv_complement", "b") == 0.8 and report.value("column_shape", "x") is None
    assert [m.column_1 for m in report.select("column_shape")] == ["a", "b"]
