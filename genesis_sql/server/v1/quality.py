"""``/v1/quality``: the stored quality runs, the same data the dashboard draws."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from genesis_sql.catalog import parse_model_ref
from genesis_sql.quality.views import RunData, list_runs
from genesis_sql.server.db import get_db
from genesis_sql.server.v1._common import jsonable

bp = Blueprint("v1_quality", __name__, url_prefix="/v1/quality")


@bp.get("/runs")
def runs() -> Response:
    """Every run's summary, newest first; ``?model=name`` keeps one model's."""
    model = request.args.get("model")
    rows = list_runs(get_db(), model=parse_model_ref(model)[0] if model is not None else None)
    return jsonify(runs=jsonable(rows))


@bp.get("/runs/<run_id>")
def run(run_id: str) -> Response:
    """One run: summary, columns, pairs, privacy metrics and projection points."""
    return jsonify(jsonable(RunData.load(get_db(), run_id).to_json()))
