"""QualityEvaluator: every quality metric of a synthetic table against real rows, as a QualityReport.

The evaluator works on Arrow tables and knows nothing of the catalog; :mod:`genesis_sql.quality.api`
feeds it from SQL and stores what it returns.
"""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from genesis_sql.errors import EvaluationError
from genesis_sql.quality import fidelity
from genesis_sql.quality._columns import CONTINUOUS_KINDS, DISCRETE_KINDS, EncodedColumn, encode_columns
from genesis_sql.quality._features import feature_matrices
from genesis_sql.quality.detection import detection_score
from genesis_sql.quality.pairs import REAL_ASSOCIATION_THRESHOLD, REAL_CORRELATION_THRESHOLD
from genesis_sql.quality.privacy import privacy_metrics
from genesis_sql.quality.projection import project
from genesis_sql.quality.results import (
    COVERAGE,
    DETECTION,
    MISSING_VALUES,
    PRIVACY,
    PROJECTION,
    UTILITY,
    MetricResult,
    QualityReport,
)
from genesis_sql.quality.risks import RISK_METRICS, risk_metrics
from genesis_sql.quality.sampling import MODEL_ROWS, PRIVACY_ROWS, PROJECTION_POINTS, SAMPLE_ROWS, sample_table
from genesis_sql.quality.rules_kept import rules_kept_metrics, rules_kept_score
from genesis_sql.quality.utility import ml_efficacy

# Columns whose values genesis never copies (DESIGN.md "Privacy defaults"); each gets a copied-value rate.
IDENTIFIER_KINDS = frozenset({"id", "text"})
# Real rows kept out of the TRTR model to test both models on, when there is no holdout.
TEST_SHARE = 0.3
# A utility figure needs at least this many labelled rows to train on and to test on.
MIN_UTILITY_ROWS = 10


def _similar(name: str, candidates: Sequence[str]) -> str | None:
    same = [c for c in candidates if c.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, list(candidates), n=1)
    return close[0] if close else None


def check_columns(table: pa.Table, columns: Sequence[dict[str, Any]], what: str) -> None:
    """Raise :class:`EvaluationError` unless ``table`` has exactly the model's columns, of usable types.

    Args:
        table: The rows to check.
        columns: The model's column specs (``name``, ``kind``).
        what: How to call the rows in the message, such as ``"the real query"``.
    """
    expected = [c["name"] for c in columns]
    missing = [n for n in expected if n not in table.column_names]
    extra = [n for n in table.column_names if n not in expected]
    problems = []
    if missing:
        hints = {n: _similar(n, extra) for n in missing}
        described = [f"{n!r} (found {hints[n]!r}?)" if hints[n] else repr(n) for n in missing]
        problems.append(f"it lacks {', '.join(described)}")
    if extra:
        problems.append(f"it has columns the model does not: {', '.join(map(repr, extra))}")
    for spec in columns:
        if spec["name"] not in table.column_names:
            continue
        arrow_type = table.schema.field(spec["name"]).type
        numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or \
            pa.types.is_decimal(arrow_type) or pa.types.is_boolean(arrow_type)
        if spec["kind"] == "datetime" and not pa.types.is_temporal(arrow_type):
            problems.append(f"column {spec['name']!r} is {arrow_type}, but the model has a datetime there")
        elif spec["kind"] in CONTINUOUS_KINDS - {"datetime"} and not numeric:
            problems.append(f"column {spec['name']!r} is {arrow_type}, but the model has a number there")
    if problems:
        raise EvaluationError(
            f"The columns of {what} do not match the model ({', '.join(expected)}): {'; '.join(problems)}. "
            "Select the model's columns, with their names and types, in the query."
        )


def check_target(target: str, columns: Sequence[dict[str, Any]], real: pa.Table) -> None:
    kinds = {c["name"]: c["kind"] for c in columns}
    if target not in kinds:
        close = _similar(target, list(kinds))
        hint = f" Did you mean {close!r}?" if close else ""
        raise EvaluationError(f"Unknown target column {target!r}; the model's columns are {', '.join(kinds)}.{hint}")
    if kinds[target] not in CONTINUOUS_KINDS - {"datetime"} and kinds[target] not in DISCRETE_KINDS:
        raise EvaluationError(
            f"Target column {target!r} is a {kinds[target]} column; a target must be numeric, integer, "
            "categorical or boolean. Pick another target, or leave it out to skip the utility figure."
        )
    values = real.column(target).drop_null()
    if len(values) == 0 or len(values.unique()) < 2:
        state = "NULL in every real row" if len(values) == 0 else "constant in the real rows"
        raise EvaluationError(f"Target column {target!r} is {state}; a model cannot learn to predict it. "
                              "Pick another target, or leave it out to skip the utility figure.")


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _risk_scores(metrics: list[MetricResult]) -> dict[str, Any]:
    """Each attack's risk; for inference the riskiest secret column (``inference_risk_column``)."""
    risks = [m for m in metrics if m.category == PRIVACY and m.metric in RISK_METRICS and m.available]
    scores: dict[str, Any] = {name: next((m.value for m in risks if m.metric == name), None) for name in RISK_METRICS}
    worst = max((m for m in risks if m.metric == "inference_risk"), key=lambda m: m.value, default=None)
    scores["inference_risk"] = None if worst is None else worst.value
    scores["inference_risk_column"] = None if worst is None else worst.column_1
    return scores


class QualityEvaluator:
    """Evaluate synthetic rows against real rows: fidelity, detection, utility and privacy.

    Args:
        columns: The model's column specs, dicts with ``name`` and ``kind`` (the catalog's JSON).
        target: A column to predict for the utility figure (TSTR vs TRTR); None for no utility figure.
        seed: Seeds the samples, splits and models, so the same inputs give the same report.

    Example:
        >>> cols = [{"name": "x", "kind": "numeric"}]
        >>> table = pa.table({"x": [float(i) for i in range(100)]})
        >>> QualityEvaluator(cols).evaluate(table, table).overall
        1.0
    """

    def __init__(self, columns: Sequence[dict[str, Any]], *, target: str | None = None, seed: int = 0) -> None:
        self.columns = columns
        self.target = target
        self.seed = seed

    def evaluate(self, real: pa.Table, synthetic: pa.Table, *, holdout: pa.Table | None = None,
                 train: pa.Table | None = None) -> QualityReport:
        """Compute every metric and return them as a :class:`QualityReport` (not yet stored).

        Args:
            real: Real rows to compare with.
            synthetic: Synthetic rows.
            holdout: Real rows the model never saw, for the holdout-based privacy metrics and as the
                utility test set; None when there are none (those metrics are then unavailable).
            train: The rows the model was trained on, for the privacy metrics; defaults to ``real``.

        Raises:
            EvaluationError: A table is empty or does not have the model's columns, or the target is
                unusable. Nothing is computed then.
        """
        columns = list(self.columns)
        train = real if train is None else train
        tables = {"the real rows": real, "the synthetic rows": synthetic, "the training rows": train}
        if holdout is not None:
            tables["the holdout rows"] = holdout
        for what, table in tables.items():
            check_columns(table, columns, what)
            if table.num_rows == 0:
                raise EvaluationError(f"{what.capitalize()} are empty: an evaluation needs at least one row. "
                                      "Check the query's WHERE clause and source table.")
        if self.target is not None:
            check_target(self.target, columns, real)

        rng = np.random.default_rng(self.seed)
        samples = {"real": sample_table(real, SAMPLE_ROWS, rng), "synthetic": sample_table(synthetic, SAMPLE_ROWS, rng)}
        samples["train"] = samples["real"] if train is real else sample_table(train, SAMPLE_ROWS, rng)
        if holdout is not None:
            samples["holdout"] = sample_table(holdout, SAMPLE_ROWS, rng)
        encoded = encode_columns(samples, columns)
        if encoded and all(c.is_null("real").all() for c in encoded):
            raise EvaluationError("Every column is NULL in every real row; there is nothing to compare. "
                                  "Check the real query.")

        metrics = fidelity.fidelity_metrics(encoded)
        metrics.extend(self._model_metrics(encoded, samples))
        privacy_rows = {side: np.arange(min(PRIVACY_ROWS, t.num_rows)) for side, t in samples.items()}
        metrics.extend(privacy_metrics(
            encoded, synthetic=samples["synthetic"], train=train, holdout=samples.get("holdout"), rows=privacy_rows,
            identifiers=[c["name"] for c in columns if c["kind"] in IDENTIFIER_KINDS],
        ))
        metrics.extend(risk_metrics(encoded, rows=privacy_rows, target=self.target, seed=self.seed))
        metrics.extend(rules_kept_metrics(real, synthetic, columns))
        scores = self._scores(metrics)
        overall = _mean([scores["column_shapes"], scores["column_pair_trends"]])
        return QualityReport(overall=overall, scores=scores, metrics=metrics, target=self.target,
                             n_real=real.num_rows, n_synthetic=synthetic.num_rows, seed=self.seed)

    def _model_metrics(self, encoded: list[EncodedColumn], samples: dict[str, pa.Table]) -> list[MetricResult]:
        model_rows = {side: np.arange(min(MODEL_ROWS, t.num_rows)) for side, t in samples.items()}
        real_x, synthetic_x = feature_matrices(encoded, ("real", "synthetic"),
                                               (model_rows["real"], model_rows["synthetic"]))
        detection = detection_score(real_x, synthetic_x, seed=self.seed)
        results = [MetricResult.of(DETECTION, "logistic_detection", detection.score,
                                   reason="too few rows or no comparable column to train a classifier",
                                   detail={"auc": None if np.isnan(detection.auc) else detection.auc,
                                           "rows": [len(real_x), len(synthetic_x)]})]
        projection = project(real_x, synthetic_x, seed=self.seed)
        points = {side: np.round(p[:PROJECTION_POINTS], 4).tolist()
                  for side, p in (("real", projection.real), ("synthetic", projection.synthetic))}
        results.append(MetricResult.of(PROJECTION, "pca", sum(projection.explained_variance) or float("nan"),
                                       reason="no comparable column to project",
                                       detail={"explained_variance": list(projection.explained_variance), **points}))
        results.append(self._utility(encoded, samples))
        return results

    def _utility(self, encoded: list[EncodedColumn], samples: dict[str, pa.Table]) -> MetricResult:
        if self.target is None:
            return MetricResult.of(UTILITY, "ml_efficacy", float("nan"),
                                   reason="no target column: pass target := 'column' for a utility figure")
        if "holdout" in samples:
            # The real rows usually include the holdout (the fitting query before its split): the real
            # model trains on the training rows, so that no row is both trained and tested on.
            real_side, protocol = "train", "trained on training rows (real minus holdout), tested on the holdout"
            test_side, test_rows = "holdout", np.arange(min(MODEL_ROWS, samples["holdout"].num_rows))
            real_rows = np.arange(min(MODEL_ROWS, samples["train"].num_rows))
        else:
            order = np.arange(samples["real"].num_rows)
            real_side, protocol = "real", f"real rows split: {TEST_SHARE:.0%} tested on, the rest trained on"
            test_count = min(int(np.ceil(TEST_SHARE * order.size)), MODEL_ROWS)
            test_side, test_rows, real_rows = "real", order[:test_count], order[test_count:test_count + MODEL_ROWS]
        synthetic_rows = np.arange(min(MODEL_ROWS, samples["synthetic"].num_rows))
        if min(real_rows.size, test_rows.size) < MIN_UTILITY_ROWS:
            return MetricResult.of(UTILITY, "ml_efficacy", float("nan"), detail={"target": self.target},
                                   reason=f"fewer than {MIN_UTILITY_ROWS} real rows to train or to test on")
        result = ml_efficacy(encoded, self.target, real_rows=real_rows, synthetic_rows=synthetic_rows,
                             test_side=test_side, test_rows=test_rows, seed=self.seed, real_side=real_side)
        detail = {"target": self.target, "task": result.task, "metric": result.metric, "trtr": result.trtr,
                  "tstr": result.tstr, "test_rows": test_side, "train_rows": real_side, "protocol": protocol}
        return MetricResult.of(UTILITY, "ml_efficacy", result.score, detail=detail,
                               reason=f"the model trained on real rows scores {result.trtr:.3f} ({result.metric}), "
                                      "so there is no real skill to compare with")

    @staticmethod
    def _scores(metrics: list[MetricResult]) -> dict[str, Any]:
        def value(category: str, metric: str) -> float | None:
            return next((m.value for m in metrics if m.category == category and m.metric == metric), None)

        copies, holdout_copies = value(PRIVACY, "exact_copy_rate"), value(PRIVACY, "holdout_copy_rate")
        ratio = value(PRIVACY, "dcr_ratio")
        copied_values = [m.value for m in metrics if m.metric == "copied_value_rate" and m.available]
        passed = None
        if copies is not None and holdout_copies is not None and ratio is not None:
            # DESIGN.md "Privacy defaults": few exact copies, no near-copies, no copied identifiers or text.
            passed = copies <= max(0.02, 2 * holdout_copies) and ratio >= 0.5 and not any(copied_values)
        return {
            "column_shapes": fidelity.column_shapes_score(metrics),
            "column_pair_trends": fidelity.column_pair_trends_score(metrics),
            "column_pair_trends_all_pairs": _mean([m.value for m in metrics if m.category == "column_pair"]),
            "missing_values": _mean([m.value for m in metrics if m.category == MISSING_VALUES]),
            "coverage": _mean([m.value for m in metrics if m.category == COVERAGE]),
            "detection": value(DETECTION, "logistic_detection"),
            "utility": value(UTILITY, "ml_efficacy"),
            "rules_kept": rules_kept_score(metrics),
            "exact_copy_rate": copies,
            "holdout_copy_rate": holdout_copies,
            "dcr_ratio": ratio,
            "dcr_overfitting_protection": value(PRIVACY, "dcr_overfitting_protection"),
            "membership_inference_auc": value(PRIVACY, "membership_inference_auc"),
            **_risk_scores(metrics),
            "privacy_passed": passed,
            "projection_explained_variance": next(
                (m.detail["explained_variance"] for m in metrics if m.category == PROJECTION), []),
            "sample_rows": {"fidelity": SAMPLE_ROWS, "model": MODEL_ROWS, "privacy": PRIVACY_ROWS},
            "thresholds": {"real_correlation": REAL_CORRELATION_THRESHOLD,
                           "real_association": REAL_ASSOCIATION_THRESHOLD},
        }
