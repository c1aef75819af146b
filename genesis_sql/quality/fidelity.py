"""Statistical fidelity of every column and column pair, as :class:`MetricResult` rows.

Per column: the shape score (KS or TV complement, with the distributions the figures draw), the
missing-value similarity, and range or category coverage. Per pair: correlation or contingency
similarity. A metric that is undefined for the data (a column NULL on every row, a constant column) is
returned as unavailable with the reason, never as a made-up number.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from genesis_sql.quality import coverage, pairs, shapes
from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.distributions import distribution
from genesis_sql.quality.results import COLUMN_PAIR, COLUMN_SHAPE, COVERAGE, MISSING_VALUES, MetricResult


def _all_null(column: EncodedColumn) -> str | None:
    for side in ("real", "synthetic"):
        if column.is_null(side).all():
            return f"column {column.name!r} is NULL in every {side} row"
    return None


def _why_undefined(column: EncodedColumn) -> str:
    return _all_null(column) or f"column {column.name!r} takes a single value in the real rows"


def _pair_reason(first: EncodedColumn, second: EncodedColumn, statistic: str) -> str:
    reason = _all_null(first) or _all_null(second)
    if reason:
        return reason
    if statistic == "pearson":
        return f"{first.name!r} or {second.name!r} is constant on one side, so their correlation is undefined"
    return f"{first.name!r} or {second.name!r} takes a single value in the real rows, so their association is undefined"


def column_metrics(column: EncodedColumn) -> list[MetricResult]:
    """Shape, missing-value and coverage metrics of one column."""
    real, synthetic = column["real"], column["synthetic"]
    reason = _why_undefined(column)
    name = column.name
    if column.is_continuous:
        shape = MetricResult.of(COLUMN_SHAPE, "ks_complement", shapes.ks_complement(real, synthetic),
                                reason=reason, column_1=name, detail={"distribution": distribution(column)})
        reach = MetricResult.of(COVERAGE, "range_coverage", coverage.range_coverage(real, synthetic),
                                reason=reason, column_1=name)
    else:
        shape = MetricResult.of(COLUMN_SHAPE, "tv_complement", shapes.tv_complement(real, synthetic),
                                reason=reason, column_1=name, detail={"distribution": distribution(column)})
        reach = MetricResult.of(COVERAGE, "category_coverage", coverage.category_coverage(real, synthetic),
                                reason=reason, column_1=name)
    real_null, synthetic_null = column.is_null("real"), column.is_null("synthetic")
    missing = MetricResult.of(
        MISSING_VALUES, "missing_value_similarity",
        coverage.missing_value_similarity(real_null, synthetic_null), reason=reason, column_1=name,
        detail={"real_rate": float(real_null.mean()), "synthetic_rate": float(synthetic_null.mean())},
    )
    return [shape, missing, reach]


def _codes(column: EncodedColumn, side: str) -> np.ndarray:
    return pairs.discretize(column[side]) if column.is_continuous else column[side]


def pair_metric(first: EncodedColumn, second: EncodedColumn) -> MetricResult:
    """The pair-trend metric of two columns, the way SDMetrics' report picks it."""
    if first.is_continuous and second.is_continuous:
        name, statistic = "correlation_similarity", "pearson"
        result = pairs.correlation_similarity(first["real"], second["real"], first["synthetic"], second["synthetic"])
    else:
        name, statistic = "contingency_similarity", "cramers_v"
        result = pairs.contingency_similarity(_codes(first, "real"), _codes(second, "real"),
                                              _codes(first, "synthetic"), _codes(second, "synthetic"))
    detail = {
        "statistic": statistic,
        "real": None if np.isnan(result.real) else round(result.real, 6),
        "synthetic": None if np.isnan(result.synthetic) else round(result.synthetic, 6),
        "meets_threshold": result.meets_threshold,
    }
    return MetricResult.of(COLUMN_PAIR, name, result.score, reason=_pair_reason(first, second, statistic),
                           column_1=first.name, column_2=second.name, detail=detail)


def fidelity_metrics(columns: Sequence[EncodedColumn]) -> list[MetricResult]:
    """Every column's metrics, then every pair's, in the model's column order."""
    results = [m for column in columns for m in column_metrics(column)]
    results.extend(pair_metric(a, b) for a, b in itertools.combinations(columns, 2))
    return results


def column_shapes_score(results: Sequence[MetricResult]) -> float | None:
    """The Column Shapes property: the mean of the available shape scores."""
    values = [m.value for m in results if m.category == COLUMN_SHAPE and m.available]
    return float(np.mean(values)) if values else None


def column_pair_trends_score(results: Sequence[MetricResult]) -> float | None:
    """The Column Pair Trends property: the mean over pairs related in the real data (SDMetrics' rule)."""
    values = [m.value for m in results if m.category == COLUMN_PAIR and m.available and m.detail["meets_threshold"]]
    return float(np.mean(values)) if values else None
