"""``POST /v1/fit``: fit and store a model, only on a server started with ``--allow-fit``."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from genesis_sql.api import fit as fit_model
from genesis_sql.api import parse_options
from genesis_sql.server.db import owner_db
from genesis_sql.server.problems import problem
from genesis_sql.server.v1._common import json_body, typed
from genesis_sql.sql.statements import validate_query

bp = Blueprint("v1_fit", __name__, url_prefix="/v1/fit")


@bp.post("")
def fit() -> Response:
    """Fit ``model`` on the rows of ``sql`` (one read-only SELECT); answers the stored version's summary."""
    if not current_app.config["ALLOW_FIT"]:
        return problem(403, "Fitting not allowed",
                       "This server does not fit models. Start it with --allow-fit to allow POST /v1/fit.")
    body = json_body(required=("model", "sql"), optional=("method", "seed", "options"))
    source_sql = validate_query(body["sql"], what="training query", allow_files=False)
    method = typed(body, "method", (str,), "a method name such as \"auto\" or \"copula\"") or "auto"
    seed = typed(body, "seed", (int,), "a whole number in [0, 2**63 - 1]")
    options = parse_options(typed(body, "options", (dict,), "a JSON object such as {\"holdout\": 0.2}, or null"))
    with owner_db() as con:
        summary = fit_model(con, body["model"], source_sql, method=method, seed=0 if seed is None else seed,
                            **options)
    return jsonify(name=summary.name, version=summary.version, method=summary.method,
                   columns=[{"name": n, "kind": k} for n, k in summary.columns], training_rows=summary.training_rows,
                   holdout_rows=summary.holdout_rows, fit_seconds=round(summary.fit_seconds, 3),
                   pii=dict(summary.pii)), 201
