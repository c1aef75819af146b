"""JSON endpoints with the same data as the pages: ``/api/runs`` and ``/api/runs/<run_id>``."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from genesis_sql.quality.views import RunData, list_runs
from genesis_sql.server.db import get_db

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/runs")
def runs() -> Any:
    """Every run's summary, newest first; ``?model=name`` keeps one model's."""
    rows = list_runs(get_db(), model=request.args.get("model"))
    return jsonify(runs=[{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()} for row in rows])


@bp.get("/runs/<run_id>")
def run(run_id: str) -> Any:
    """One run: summary, columns, pairs, privacy metrics and projection points."""
    return jsonify(RunData.load(get_db(), run_id).to_json())
