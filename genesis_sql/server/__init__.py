"""The HTTP side of genesis: the quality dashboard and the ``/v1`` API, one Flask app.

``create_app()`` builds it: one blueprint per page (the models and runs list, a run, the dashboard's
JSON, the re-evaluation action, assets) and one per API resource (``genesis_sql.server.v1``), with the
OpenAPI document at ``/openapi.json``. Every request passes the guards of
:mod:`genesis_sql.server.security` (Host allow-list, Origin, token, CSRF). ``genesis dashboard`` serves it
opening the database per request; ``genesis serve`` gives it the one connection it owns (see
:mod:`genesis_sql.server.db`). Needs the ``dashboard`` extra.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import duckdb
from flask import Flask, Response, render_template, request
from jinja2 import ChoiceLoader, PackageLoader
from werkzeug.exceptions import HTTPException

from genesis_sql.errors import DatabaseLockedError, GenesisError
from genesis_sql.server import api, assets, dashboard, db, openapi, problems, runs, security, update, v1
from genesis_sql.server.security import LOOPBACK_HOSTS, TOKEN_COOKIE, SecurityPolicy, allowed_hosts, check_bind

__all__ = ["LOOPBACK_HOSTS", "TOKEN_COOKIE", "check_bind", "create_app"]

# Paths answered in JSON (problem details on error) rather than HTML pages.
_JSON_PREFIXES = ("/v1/", "/api/", "/openapi.json")


def _wants_json() -> bool:
    return request.path.startswith(_JSON_PREFIXES)


def _reject(status: int, title: str, detail: str) -> Response:
    """A refusal by the guards: problem details for the API, plain text for pages."""
    headers = {"WWW-Authenticate": 'Bearer realm="genesis"'} if status == 401 else None
    if _wants_json():
        return problems.problem(status, title, detail, headers=headers)
    return Response(f"{title}. {detail}", status, headers=headers, mimetype="text/plain")


def _handle_genesis_error(exc: GenesisError) -> Response:
    if _wants_json():
        return problems.from_genesis_error(exc)
    status = problems.status_of(exc)
    locked = isinstance(exc, DatabaseLockedError)
    response = Response(render_template("error.html", error=exc, status=status, locked=locked), status)
    if locked:
        response.headers["Retry-After"] = "5"
    return response


def _handle_duckdb_error(exc: duckdb.Error) -> Response:
    if _wants_json():
        return problems.from_duckdb_error(exc)
    return Response(render_template("error.html", error=exc, status=400, locked=False), 400)


def _handle_http_error(exc: HTTPException) -> Response | HTTPException:
    if not _wants_json():
        return exc
    response = problems.problem(exc.code or 500, exc.name, exc.description or exc.name)
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app.

    Args:
        test_config: Settings that replace the defaults:
            ``DATABASE``: the DuckDB file opened per request (default ``$GENESIS_DB`` or ``genesis.duckdb``);
            ``CONNECTION``: a connection the process owns; when set, requests use cursors of it instead;
            ``TOKEN``: the bearer token (default ``$GENESIS_DASHBOARD_TOKEN``), None for none;
            ``BIND_HOST`` and ``ALLOWED_HOSTS``: the address served and extra ``Host`` names to answer;
            ``ALLOW_FIT``: whether ``POST /v1/fit`` may fit models (default False);
            ``MAX_ROWS``: most rows one API request may return (default 10,000,000);
            ``BATCH_ROWS``: rows per streamed batch (default 65,536);
            ``QUERY_TIMEOUT``: seconds after which ``POST /v1/sql`` interrupts its query (default None: none);
            ``LOCK_RETRY_SECONDS``: how long a request waits for a held database (default 2).

    Example:
        >>> app = create_app({"TESTING": True, "DATABASE": "shop.duckdb"})
        >>> sorted(app.blueprints)[:5]
        ['api', 'assets', 'dashboard', 'openapi', 'runs']
    """
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE=os.environ.get("GENESIS_DB", "genesis.duckdb"),
        CONNECTION=None,
        TOKEN=os.environ.get("GENESIS_DASHBOARD_TOKEN") or None,
        BIND_HOST="127.0.0.1",
        ALLOWED_HOSTS=(),
        ALLOW_FIT=False,
        MAX_ROWS=10_000_000,
        BATCH_ROWS=65_536,
        QUERY_TIMEOUT=None,
        LOCK_RETRY_SECONDS=2.0,
    )
    if test_config:
        app.config.update(test_config)
    # The run page reuses the report's section template and style sheet.
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("genesis_sql.quality", "templates")])
    db.init_app(app)
    hosts: Iterable[str] = app.config["ALLOWED_HOSTS"]
    security.init_app(app, SecurityPolicy(allowed_hosts(app.config["BIND_HOST"], hosts), app.config["TOKEN"]),
                      _reject)
    for blueprint in (dashboard.bp, runs.bp, api.bp, update.bp, assets.bp, openapi.bp, *v1.BLUEPRINTS):
        app.register_blueprint(blueprint)
    app.register_error_handler(GenesisError, _handle_genesis_error)
    app.register_error_handler(duckdb.Error, _handle_duckdb_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    return app
