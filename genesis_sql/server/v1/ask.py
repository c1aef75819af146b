"""``POST /v1/ask``: read a natural-language request into genesis SQL, as ``genesis_sql.ask`` does.

The answer is the reading (the SQL of one fixed shape, model, n, conditions, assumptions, what was not
understood and whether a person should confirm); nothing is generated. A client shows the reading and
runs the SQL with ``POST /v1/sql`` once it is confirmed, so a guess never turns into rows unseen.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server.db import get_db
from genesis_sql.server.v1._common import json_body

bp = Blueprint("v1_ask", __name__, url_prefix="/v1/ask")


@bp.post("")
def ask_request() -> Response:
    """The reading of ``{"text": "..."}`` (and optionally ``"models": [...]`` to choose among)."""
    from genesis_sql.nl.ask import ask

    body = json_body(required=("text",), optional=("models",))
    text, models = body["text"], body.get("models")
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError("text must be the request in words, such as \"1000 workers over 50\".")
    if models is not None and not (isinstance(models, list) and all(isinstance(m, str) for m in models)):
        raise InvalidArgumentError("models must be a list of model names, such as [\"workers\"].")
    result = ask(get_db(), text, models=models)
    return jsonify({"sql": result.sql, "model": result.model, "n": result.n, "conditions": list(result.conditions),
                    "assumptions": list(result.assumptions), "unparsed": list(result.unparsed),
                    "needs_confirmation": result.needs_confirmation, "problems": list(result.problems)})
