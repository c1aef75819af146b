"""The quality dashboard: a small Flask app over the ``genesis.quality_*`` views.

``create_app()`` builds it; one blueprint per page (the models and runs list, a run, the JSON API, the
re-evaluation action). It binds to 127.0.0.1 unless a token is configured, and opens the database per
request (see :mod:`genesis_sql.server.db`). Needs the ``dashboard`` extra.
"""
from __future__ import annotations

import hmac
import os
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from jinja2 import ChoiceLoader, PackageLoader

from genesis_sql.errors import (
    CatalogError,
    DatabaseLockedError,
    GenesisError,
    InvalidArgumentError,
    ModelNotFoundError,
    RunNotFoundError,
)
from genesis_sql.server import api, assets, dashboard, db, runs, update

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_COOKIE = "genesis_token"


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback ``host`` unless a ``token`` protects the app.

    Raises:
        InvalidArgumentError: ``host`` is reachable from other machines and no token is set.
    """
    if host not in LOOPBACK_HOSTS and not token:
        raise InvalidArgumentError(
            f"Refusing to serve the dashboard on {host!r} without a token: anyone who can reach it could read "
            "the quality runs. Set GENESIS_DASHBOARD_TOKEN (or --token) or keep --host 127.0.0.1."
        )


def _status(exc: GenesisError) -> int:
    if isinstance(exc, DatabaseLockedError):
        return 503
    if isinstance(exc, (RunNotFoundError, ModelNotFoundError, CatalogError)):
        return 404
    return 400


def _handle_error(exc: GenesisError) -> tuple[Any, int] | Response:
    status = _status(exc)
    if request.path.startswith("/api/"):
        return jsonify(error=type(exc).__name__, message=str(exc)), status
    response = Response(render_template("error.html", error=exc, status=status, locked=status == 503), status)
    if isinstance(exc, DatabaseLockedError):
        response.headers["Retry-After"] = "5"
    return response


def _check_token(app: Flask) -> Response | None:
    token = app.config["TOKEN"]
    if not token:
        return None
    given = (request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
             or request.args.get("token") or request.cookies.get(TOKEN_COOKIE) or "")
    if hmac.compare_digest(given.encode(), token.encode()):
        return None
    return Response("This dashboard needs its token: open it with ?token=... or send 'Authorization: Bearer ...'.",
                    401, {"Content-Type": "text/plain; charset=utf-8"})


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the dashboard app.

    Args:
        test_config: Settings that replace the defaults: ``DATABASE`` (the DuckDB file, default
            ``$GENESIS_DB`` or ``genesis.duckdb``), ``TOKEN`` (default ``$GENESIS_DASHBOARD_TOKEN``),
            ``LOCK_RETRY_SECONDS`` (how long a request waits for a held database, default 2).

    Example:
        >>> app = create_app({"TESTING": True, "DATABASE": "shop.duckdb"})
        >>> sorted(app.blueprints)
        ['api', 'assets', 'dashboard', 'runs', 'update']
    """
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE=os.environ.get("GENESIS_DB", "genesis.duckdb"),
        TOKEN=os.environ.get("GENESIS_DASHBOARD_TOKEN") or None,
        LOCK_RETRY_SECONDS=2.0,
    )
    if test_config:
        app.config.update(test_config)
    # The run page reuses the report's section template and style sheet.
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("genesis_sql.quality", "templates")])
    db.init_app(app)
    for blueprint in (dashboard.bp, runs.bp, api.bp, update.bp, assets.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(GenesisError, _handle_error)
    app.before_request(lambda: _check_token(app))

    @app.after_request
    def remember_token(response: Response) -> Response:
        if app.config["TOKEN"] and request.args.get("token") == app.config["TOKEN"]:
            response.set_cookie(TOKEN_COOKIE, app.config["TOKEN"], httponly=True, samesite="Strict")
        return response

    return app
