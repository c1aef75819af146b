"""Quality evaluation: how faithful, useful and private synthetic rows are, stored in the catalog.

- :class:`QualityEvaluator` computes every metric on Arrow tables and returns a :class:`QualityReport`;
- :func:`evaluate` (and ``genesis_evaluate`` in SQL) generates rows of a stored model, evaluates them
  against a real query and stores the run in ``genesis.quality_runs`` / ``genesis.quality_metrics``;
- :class:`QualityDashboard` turns a stored run into a self-contained HTML report or a PDF.
"""
from __future__ import annotations

from genesis_sql.quality._api import EVALUATION_SEED, evaluate
from genesis_sql.quality.evaluator import QualityEvaluator
from genesis_sql.quality.report import QualityDashboard
from genesis_sql.quality.results import MetricResult, QualityReport
from genesis_sql.quality.sampling import MODEL_ROWS, PRIVACY_ROWS, SAMPLE_ROWS
from genesis_sql.quality.views import RunData

__all__ = [
    "EVALUATION_SEED",
    "MODEL_ROWS",
    "PRIVACY_ROWS",
    "SAMPLE_ROWS",
    "MetricResult",
    "QualityDashboard",
    "QualityEvaluator",
    "QualityReport",
    "RunData",
    "evaluate",
]
