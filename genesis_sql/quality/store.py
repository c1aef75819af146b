"""Store a QualityReport in ``genesis.quality_runs`` / ``genesis.quality_metrics``, all or nothing."""
from __future__ import annotations

import dataclasses
import json
import math
import uuid
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from genesis_sql.quality.results import QualityReport


# The name under which the metric rows are visible to the INSERT, while the run is stored.
_ROWS = "genesis_quality_metric_rows"


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
    metrics = report.metrics
    rows = pa.table({
        "run_id": pa.array([run_id] * len(metrics), pa.string()),
        "category": pa.array([m.category for m in metrics], pa.string()),
        "metric": pa.array([m.metric for m in metrics], pa.string()),
        "column_1": pa.array([m.column_1 for m in metrics], pa.string()),
        "column_2": pa.array([m.column_2 for m in metrics], pa.string()),
        "value": pa.array([m.value for m in metrics], pa.float64()),
        "available": pa.array([m.available for m in metrics], pa.bool_()),
        "detail": pa.array([_dumps(m.detail) for m in metrics], pa.string()),
        "position": pa.array(range(len(metrics)), pa.int32()),
    })
    con.register(_ROWS, rows)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                """INSERT INTO genesis.quality_runs (run_id, model, model_version, real_sql, holdout_sql, target,
                       n_real, n_synthetic, seed, overall, scores)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [run_id, report.model, report.model_version, report.real_sql, report.holdout_sql, report.target,
                 report.n_real, report.n_synthetic, report.seed, report.overall, _dumps(report.scores)],
            )
            con.execute(f"INSERT INTO genesis.quality_metrics ({', '.join(rows.column_names)}) SELECT * FROM {_ROWS}")
            created_at = con.execute("SELECT created_at FROM genesis.quality_runs WHERE run_id = ?",
                                     [run_id]).fetchall()[0][0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister(_ROWS)
    return dataclasses.replace(report, run_id=run_id, created_at=created_at)
