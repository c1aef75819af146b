"""Read stored quality runs back through the ``genesis.quality_*`` views (and nothing else).

The reports and the dashboard draw from a :class:`RunData`, so what they show is what the catalog holds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from genesis_sql.errors import RunNotFoundError


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def _parse(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    for row in rows:
        for key in keys:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return rows


def list_runs(con: duckdb.DuckDBPyConnection, *, model: str | None = None) -> list[dict[str, Any]]:
    """Every stored run, newest first, as ``genesis.quality_summary`` rows (without the scores JSON)."""
    where, params = ("WHERE model = ?", [model]) if model else ("", [])
    return _records(con, f"SELECT * EXCLUDE (scores) FROM genesis.quality_summary {where} "
                         "ORDER BY created_at DESC, run_id", params)


def list_models(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per evaluated model: its number of runs and its latest run's id, time and overall score."""
    return _records(con, """
        SELECT model, count(*) AS runs, arg_max(run_id, created_at) AS latest_run_id,
               max(created_at) AS latest_created_at, arg_max(overall, created_at) AS latest_overall
        FROM genesis.quality_summary GROUP BY model ORDER BY model""")


@dataclass(frozen=True)
class RunData:
    """One stored run as the views show it.

    Attributes:
        summary: The ``genesis.quality_summary`` row (``scores`` parsed).
        columns: ``genesis.quality_columns`` rows in the model's column order (``distribution`` parsed).
        pairs: ``genesis.quality_pairs`` rows.
        privacy: ``genesis.quality_privacy`` rows (``detail`` parsed), but for the attack-based risks.
        projection: ``genesis.quality_projection`` rows (``source``, ``x``, ``y``).
        rules: ``genesis.quality_rules`` rows: each relation of the real rows and the share of synthetic
            rows keeping it, worst first.
        risks: ``genesis.quality_risks`` rows: each attack's risk, interval and baselines.
    """

    summary: dict[str, Any]
    columns: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    privacy: list[dict[str, Any]]
    projection: list[dict[str, Any]]
    rules: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.summary["run_id"]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, run_id: str) -> RunData:
        """Read run ``run_id`` from the views.

        Raises:
            RunNotFoundError: no run has that id.
        """
        summary = _parse(_records(con, "SELECT * FROM genesis.quality_summary WHERE run_id = ?", [run_id]), "scores")
        if not summary:
            raise RunNotFoundError(f"No quality run has id {run_id!r}; list them with "
                                       "SELECT run_id, model, created_at FROM genesis.quality_summary.")
        by_run = "WHERE run_id = ? ORDER BY position"
        return cls(
            summary=summary[0],
            columns=_parse(_records(con, f"SELECT * FROM genesis.quality_columns {by_run}", [run_id]), "distribution"),
            pairs=_records(con, f"SELECT * FROM genesis.quality_pairs {by_run}", [run_id]),
            privacy=_parse(_records(con, "SELECT * FROM genesis.quality_privacy WHERE run_id = ? AND position NOT IN "
                                         "(SELECT position FROM genesis.quality_risks WHERE run_id = ?) "
                                         "ORDER BY position", [run_id, run_id]), "detail"),
            projection=_records(con, "SELECT source, x, y FROM genesis.quality_projection WHERE run_id = ?", [run_id]),
            rules=_records(con, "SELECT rule, kind, kept FROM genesis.quality_rules WHERE run_id = ? "
                                "ORDER BY kept NULLS LAST, rule", [run_id]),
            risks=_parse(_records(con, f"SELECT * EXCLUDE (run_id, model, model_version) FROM genesis.quality_risks "
                                       f"{by_run}", [run_id]), "detail"),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole run (timestamps as ISO text)."""
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value.isoformat() if hasattr(value, "isoformat") else value

        return plain({"summary": self.summary, "columns": self.columns, "pairs": self.pairs,
                      "privacy": self.privacy, "projection": self.projection, "rules": self.rules,
                      "risks": self.risks})
