"""What an evaluation produces: metric values and the report that gathers them."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Metric categories, as stored in genesis.quality_metrics.category.
COLUMN_SHAPE = "column_shape"
COLUMN_PAIR = "column_pair"
MISSING_VALUES = "missing_values"
COVERAGE = "coverage"
DETECTION = "detection"
UTILITY = "utility"
PRIVACY = "privacy"
PROJECTION = "projection"


@dataclass(frozen=True)
class MetricResult:
    """One metric value, for the table, a column or a column pair.

    Attributes:
        category: What the metric measures (``column_shape``, ``column_pair``, ``privacy`` ...).
        metric: The metric's name, such as ``ks_complement``.
        value: The value; None when the metric is not available.
        column_1: The column, or the first column of a pair.
        column_2: The second column of a pair.
        available: Whether the metric could be computed; when not, ``detail["reason"]`` says why.
        detail: Everything else worth keeping (the figures' data, intermediate values), JSON-ready.
    """

    category: str
    metric: str
    value: float | None
    column_1: str | None = None
    column_2: str | None = None
    available: bool = True
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, category: str, metric: str, value: float, *, reason: str, column_1: str | None = None,
           column_2: str | None = None, detail: dict[str, Any] | None = None) -> MetricResult:
        """A result that is unavailable, with ``reason``, when ``value`` is NaN or None."""
        detail = dict(detail or {})
        if value is None or math.isnan(value):
            detail["reason"] = reason
            return cls(category, metric, None, column_1, column_2, False, detail)
        return cls(category, metric, float(value), column_1, column_2, True, detail)


@dataclass(frozen=True)
class QualityReport:
    """The outcome of one evaluation: the overall score, sub-scores and every metric.

    ``overall`` is SDMetrics' quality score: the mean of the column shapes and column pair trends
    scores (either alone when the other is undefined). The other sub-scores (``detection``,
    ``coverage``, ``missing_values``, ``utility``) and the privacy figures sit beside it in ``scores``.

    Attributes:
        overall: The overall quality score in [0, 1]; None when undefined.
        scores: Sub-scores and headline figures by name; None where unavailable.
        metrics: Every metric value.
        model: The evaluated model's name.
        model_version: Its version.
        real_sql: The query that gave the real rows.
        holdout_sql: The query that gave the holdout rows, if any.
        target: The utility target column, if any.
        n_real: Rows the real query returned.
        n_synthetic: Synthetic rows generated.
        seed: The seed of generation, sampling and the metrics' models.
        run_id: The id of the stored run (None until stored).
        created_at: When the run was stored.
    """

    overall: float | None
    scores: dict[str, Any]
    metrics: list[MetricResult]
    model: str | None = None
    model_version: int | None = None
    real_sql: str | None = None
    holdout_sql: str | None = None
    target: str | None = None
    n_real: int = 0
    n_synthetic: int = 0
    seed: int = 0
    run_id: str | None = None
    created_at: Any = None

    def get_score(self) -> float | None:
        """The overall score (SDMetrics' ``QualityReport.get_score``)."""
        return self.overall

    def select(self, category: str, metric: str | None = None) -> list[MetricResult]:
        """The metrics of one category (and name), in evaluation order."""
        return [m for m in self.metrics if m.category == category and (metric is None or m.metric == metric)]

    def value(self, category: str, metric: str, column_1: str | None = None,
              column_2: str | None = None) -> float | None:
        """The value of one metric, or None when it is unavailable or absent."""
        for m in self.select(category, metric):
            if m.column_1 == column_1 and m.column_2 == column_2:
                return m.value
        return None
