"""Store a QualityReport in ``genesis.quality_runs`` / ``genesis.quality_metrics``, all or nothing."""
from __future__ import annotations

import dataclasses
import json
import math
import uuid
from typing import Any

import duckdb
import numpy as np

from genesis_sql.quality.results import QualityReport


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN or infinity as None, for strict JSON.

    Example:
        >>> json_ready({"a": np.float64("nan"), "b": [np.int64(2), 0.5]})
        {'a': None, 'b': [2, 0.5]}
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(value: Any) -> str:
    return json.dumps(json_ready(value), allow_nan=False, separators=(",", ":"))


def save_run(con: duckdb.DuckDBPyConnection, report: QualityReport) -> QualityReport:
    """Store ``report`` as a new run in one transaction; returns it with ``run_id`` and ``created_at`` set.

    Either the run row and every metric row are committed, or (on any error) none of them.
    """
    run_id = uuid.uuid4().hex
    rows = [
        (run_id, m.category, m.metric, m.column_1, m.column_2, m.value, m.available, _dumps(m.detail), position)
        for position, m in enumerate(report.metrics)
    ]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """INSERT INTO genesis.quality_runs (run_id, model, model_version, real_sql, holdout_sql, target,
                   n_real, n_synthetic, seed, overall, scores)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [run_id, report.model, report.model_version, report.real_sql, report.holdout_sql, report.target,
             report.n_real, report.n_synthetic, report.seed, report.overall, _dumps(report.scores)],
        )
        con.executemany(
            """INSERT INTO genesis.quality_metrics (run_id, category, metric, column_1, column_2, value, available,
                   detail, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        created_at = con.execute("SELECT created_at FROM genesis.quality_runs WHERE run_id = ?",
                                 [run_id]).fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return dataclasses.replace(report, run_id=run_id, created_at=created_at)
