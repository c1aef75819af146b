"""The OpenAPI 3.1 document of the ``/v1`` API, served at ``/openapi.json``.

It is built per app, so that it states what this server enforces: bearer auth only when a token is set,
and ``n`` bounded by the server's row limit.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from genesis_sql import __version__
from genesis_sql.server.problems import MEDIA_TYPE as PROBLEM
from genesis_sql.server.v1.formats import FORMATS

bp = Blueprint("openapi", __name__)

MODEL_REF = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*(@[0-9]+)?$",
             "description": "A model name, or name@N for version N.", "examples": ["customers", "customers@2"]}
_ROWS_BODY = {f.media_type: {"schema": {"type": "string", "contentMediaType": f.media_type}} for f in FORMATS}
_ROWS_DESCRIPTION = ("Rows streamed in batches, in the format the Accept header names: "
                     + ", ".join(f"{f.media_type} ({f.name})" for f in FORMATS) + "; JSON Lines by default.")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _problems(*statuses: int) -> dict[str, Any]:
    reasons = {400: "Bad input (a GenesisError subclass names what was wrong).", 401: "No token, or a wrong one.",
               403: "Refused: cross-origin, CSRF token missing, or not allowed on this server.",
               404: "No such model, run or path.", 405: "Method not allowed.", 406: "No acceptable body format.",
               415: "The body is not JSON.", 503: "The database is held by another process."}
    return {str(s): {"description": reasons[s], "content": {PROBLEM: {"schema": _ref("Problem")}}} for s in statuses}


def _operation(summary: str, ok: dict[str, Any], *problem_statuses: int, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**ok, **_problems(*problem_statuses)}, **extra}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": _json(schema)}


def _schemas(max_rows: int) -> dict[str, Any]:
    nullable_int = {"type": ["integer", "null"], "minimum": 0, "maximum": 2**63 - 1}
    return {
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "error"],
                    "description": "RFC 9457 problem details; error is the GenesisError (or DuckDB) class name.",
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                   "status": {"type": "integer"}, "detail": {"type": "string"},
                                   "error": {"type": "string"}}},
        "Column": {"type": "object", "required": ["name", "kind", "sql_type", "nullable"],
                   "properties": {"name": {"type": "string"}, "sql_type": {"type": "string"},
                                  "kind": {"enum": ["numeric", "integer", "categorical", "boolean", "datetime",
                                                    "id", "text"]},
                                  "nullable": {"type": "boolean"}}},
        "ModelSummary": {"type": "object", "required": ["name", "version", "versions", "method"],
                         "properties": {"name": {"type": "string"}, "version": {"type": "integer"},
                                        "versions": {"type": "array", "items": {"type": "integer"}},
                                        "method": {"type": "string"}, "columns": {"type": "integer"},
                                        "training_rows": {"type": "integer"},
                                        "quality": {"type": ["number", "null"]},
                                        "created_at": {"type": "string"}}},
        "Model": {"type": "object", "required": ["name", "version", "method", "columns", "versions", "quality"],
                  "properties": {"name": {"type": "string"}, "version": {"type": "integer"},
                                 "method": {"type": "string"}, "training_rows": {"type": "integer"},
                                 "columns": {"type": "array", "items": _ref("Column")},
                                 "versions": {"type": "array", "items": {"type": "object"}},
                                 "quality": {"type": ["object", "null"],
                                             "description": "The version's latest quality run, if any."}}},
        "GenerateRequest": {"type": "object", "required": ["n"], "additionalProperties": False,
                            "properties": {"n": {"type": "integer", "minimum": 0, "maximum": max_rows},
                                           "seed": nullable_int,
                                           "where": {"type": ["string", "null"],
                                                     "description": "A SQL condition every row satisfies.",
                                                     "examples": ["carat > 2 AND cut = 'Ideal'"]}}},
        "SqlRequest": {"type": "object", "required": ["sql"], "additionalProperties": False,
                       "properties": {"sql": {"type": "string", "description": "One read-only SELECT."},
                                      "params": {"type": ["array", "null"],
                                                 "description": "Values for ? or $n placeholders."}}},
        "AskRequest": {"type": "object", "required": ["text"], "additionalProperties": False,
                       "properties": {"text": {"type": "string", "description": "The request in words."},
                                      "models": {"type": ["array", "null"], "items": {"type": "string"},
                                                 "description": "Model names to choose among."}}},
        "Reading": {"type": "object", "required": ["sql", "model", "n", "conditions", "assumptions", "unparsed",
                                                   "needs_confirmation", "problems"],
                    "properties": {"sql": {"type": "string"}, "model": {"type": ["string", "null"]},
                                   "n": {"type": "integer"},
                                   "conditions": {"type": "array", "items": {"type": "string"}},
                                   "assumptions": {"type": "array", "items": {"type": "string"}},
                                   "unparsed": {"type": "array", "items": {"type": "string"}},
                                   "needs_confirmation": {"type": "boolean"},
                                   "problems": {"type": "array", "items": {"type": "string"}}}},
        "FitRequest": {"type": "object", "required": ["model", "sql"], "additionalProperties": False,
                       "properties": {"model": {"type": "string"}, "sql": {"type": "string"},
                                      "method": {"type": ["string", "null"]}, "seed": nullable_int,
                                      "options": {"type": ["object", "null"]}}},
        "FitSummary": {"type": "object", "required": ["name", "version", "method", "columns", "training_rows"],
                       "properties": {"name": {"type": "string"}, "version": {"type": "integer"},
                                      "method": {"type": "string"}, "columns": {"type": "array"},
                                      "training_rows": {"type": "integer"},
                                      "pii": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "Runs": {"type": "object", "required": ["runs"],
                 "properties": {"runs": {"type": "array", "items": {"type": "object"}}}},
        "Run": {"type": "object",
                "required": ["summary", "columns", "pairs", "privacy", "projection", "rules", "risks"]},
        "Verification": {"type": "object", "required": ["ok", "blocks", "first_bad_block", "reason"],
                         "properties": {"ok": {"type": "boolean"}, "blocks": {"type": "integer"},
                                        "first_bad_block": {"type": ["string", "null"]},
                                        "reason": {"type": "string"}}},
    }


def document(*, token: bool, max_rows: int) -> dict[str, Any]:
    """The OpenAPI document for a server with (or without) a bearer token and the given row limit."""
    auth = (401,) if token else ()
    rows = {"200": {"description": _ROWS_DESCRIPTION, "content": _ROWS_BODY}}
    name = {"name": "name", "in": "path", "required": True, "schema": MODEL_REF}
    paths = {
        "/v1/models": {"get": _operation("Every stored model (latest version, all version numbers)",
                                         {"200": {"description": "The models.", "content": _json(
                                             {"type": "object", "required": ["models"], "properties": {
                                                 "models": {"type": "array", "items": _ref("ModelSummary")}}})}},
                                         *auth, 503)},
        "/v1/models/{name}": {"get": _operation(
            "One model version: columns, versions, latest quality run",
            {"200": {"description": "The model.", "content": _json(_ref("Model"))}}, 400, *auth, 404, 503,
            parameters=[name])},
        "/v1/models/{name}/generate": {"post": _operation(
            "Generate n rows (each satisfying where), streamed; recorded in the lineage chain", rows,
            400, *auth, 403, 404, 406, 415, 503, parameters=[name], requestBody=_body(_ref("GenerateRequest")))},
        "/v1/sql": {"post": _operation(
            "Run one read-only SELECT with WHERE pushdown into genesis_generate, streamed", rows,
            400, *auth, 403, 404, 406, 415, 503, requestBody=_body(_ref("SqlRequest")))},
        "/v1/ask": {"post": _operation(
            "Read a request in words into genesis SQL (nothing is generated; run the SQL with /v1/sql)",
            {"200": {"description": "The reading.", "content": _json(_ref("Reading"))}},
            400, *auth, 403, 415, 503, requestBody=_body(_ref("AskRequest")))},
        "/v1/fit": {"post": _operation(
            "Fit and store a model (only on a server started with --allow-fit)",
            {"201": {"description": "The stored version.", "content": _json(_ref("FitSummary"))}},
            400, *auth, 403, 404, 415, 503, requestBody=_body(_ref("FitRequest")))},
        "/v1/quality/runs": {"get": _operation(
            "Stored quality runs, newest first", {"200": {"description": "Runs.", "content": _json(_ref("Runs"))}},
            400, *auth, 404, 503,
            parameters=[{"name": "model", "in": "query", "required": False, "schema": {"type": "string"}}])},
        "/v1/quality/runs/{run_id}": {"get": _operation(
            "One quality run", {"200": {"description": "The run.", "content": _json(_ref("Run"))}},
            *auth, 404, 503,
            parameters=[{"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/v1/lineage/verify": {"get": _operation(
            "Verify the whole lineage chain",
            {"200": {"description": "The verification.", "content": _json(_ref("Verification"))}}, *auth, 503)},
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "genesis-sql", "version": __version__,
                 "description": "Synthetic data from models fitted in DuckDB: list models, generate rows, "
                                "run read-only SQL with pushdown, check quality and lineage."},
        "paths": paths,
        "components": {"schemas": _schemas(max_rows)},
    }
    if token:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                           "description": "The server's GENESIS_TOKEN."}}
        doc["security"] = [{"bearer": []}]
    return doc


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document (public: it needs no token)."""
    return jsonify(document(token=bool(current_app.config["TOKEN"]), max_rows=current_app.config["MAX_ROWS"]))
