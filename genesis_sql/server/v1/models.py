"""``/v1/models``: the stored models, one model's description, and generation streamed in any format."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from genesis_sql.generation import generate_batches, plain_columns, plan_generation
from genesis_sql.catalog import resolve_version
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.lineage.fingerprint import BatchFingerprint
from genesis_sql.lineage.record import record_generation
from genesis_sql.server.db import get_db
from genesis_sql.server.v1._common import json_body, jsonable, peek_schema, stream_rows, typed
from genesis_sql.server.v1.formats import negotiate

bp = Blueprint("v1_models", __name__, url_prefix="/v1/models")


def _records(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = get_db().execute(sql, params)
    names = [d[0] for d in result.description]
    return [jsonable(dict(zip(names, row))) for row in result.fetchall()]


@bp.get("")
def list_models() -> Response:
    """Every model with its latest version's method, size and quality, and all its version numbers."""
    versions = _records("SELECT * FROM genesis_models()", [])
    models: dict[str, dict[str, Any]] = {}
    for row in versions:
        entry = models.setdefault(row["name"], {"name": row["name"], "versions": []})
        entry["versions"].append(row["version"])
        if row["is_latest"]:
            entry.update({k: v for k, v in row.items() if k not in ("name", "is_latest")})
    return jsonify(models=list(models.values()))


@bp.get("/<name>")
def show_model(name: str) -> Response:
    """One model version (latest unless ``name@N``): columns, every version, and its latest quality run."""
    model, version, _ = resolve_version(get_db(), name)
    (row,) = _records("SELECT name, version, method, columns, training_rows, fit_seconds, content_hash, created_at "
                      "FROM genesis.models WHERE name = ? AND version = ?", [model, version])
    row["columns"] = json.loads(row["columns"])
    row["versions"] = _records("SELECT version, method, training_rows, quality, created_at, is_latest "
                               "FROM genesis_models() WHERE name = ?", [model])
    runs = _records("SELECT * EXCLUDE (scores) FROM genesis.quality_summary WHERE model = ? AND model_version = ? "
                    "ORDER BY created_at DESC LIMIT 1", [model, version])
    row["quality"] = runs[0] if runs else None
    return jsonify(row)


@bp.post("/<name>/generate")
def generate(name: str) -> Response:
    """Stream ``n`` rows of the model (each satisfying ``where``) in the format the Accept header asks for.

    The request is validated before the first byte is sent; the generation is recorded in the lineage
    chain once every row has been sent.
    """
    body = json_body(required=("n",), optional=("seed", "where"))
    body_format = negotiate(request.accept_mimetypes)
    n = typed(body, "n", (int,), "a whole number of rows, such as 1000")
    limit = current_app.config["MAX_ROWS"]
    if n is not None and n > limit:
        raise InvalidArgumentError(f"n = {n:,} is more than this server returns in one request ({limit:,} rows); "
                                   "ask in parts with different seeds.")
    seed = typed(body, "seed", (int,), "a whole number in [0, 2**63 - 1] or null")
    condition = typed(body, "where", (str,), "a SQL condition such as \"age > 50\", or null")
    con = get_db(write=True)
    plan, synthesizer = plan_generation(con, name, n, seed=seed, condition=condition)
    fingerprint = BatchFingerprint(con)
    schema, tables = peek_schema(
        fingerprint.wrap(generate_batches(plan, synthesizer, batch_size=current_app.config["BATCH_ROWS"])),
        lambda: plain_columns(synthesizer.output_schema.empty_table()).schema)
    destination = f"http {request.remote_addr} {request.path} ({body_format.media_type})"
    return stream_rows(body_format, schema, tables,
                       headers={"Genesis-Model": plan.ref, "Genesis-Seed": str(plan.seed), "Genesis-Rows": str(plan.n)},
                       on_complete=lambda: record_generation(con, plan, fingerprint.result(), destination=destination))
