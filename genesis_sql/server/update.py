"""``update_synthetic``: re-evaluate a model's latest version the way its latest run was evaluated."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request, url_for

from genesis_sql.catalog import parse_model_ref
from genesis_sql.errors import RunNotFoundError
from genesis_sql.quality import evaluate
from genesis_sql.quality.views import list_runs
from genesis_sql.server.db import get_db

bp = Blueprint("update", __name__, url_prefix="/models")


@bp.post("/<model>/update_synthetic")
def update_synthetic(model: str) -> Any:
    """Generate fresh synthetic rows of ``model``, evaluate them with the latest run's queries and store the run."""
    con = get_db(write=True)
    previous = list_runs(con, model=parse_model_ref(model)[0])
    if not previous:
        raise RunNotFoundError(f"Model {model!r} has no quality run to repeat. Evaluate it once with "
                               f"genesis evaluate {model} --real \"SELECT ...\".")
    last = previous[0]
    report = evaluate(con, model, last["real_sql"], target=last["target"], holdout_sql=last["holdout_sql"])
    if request.accept_mimetypes.best == "application/json":
        return jsonify(run_id=report.run_id, overall=report.overall)
    return redirect(url_for("runs.show", run_id=report.run_id), code=303)
