"""The front page: evaluated models and their runs, newest first."""
from __future__ import annotations

from flask import Blueprint, render_template

from genesis_sql.quality.views import list_models, list_runs
from genesis_sql.server.db import get_db

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index() -> str:
    """List every evaluated model and every run."""
    con = get_db()
    return render_template("index.html", models=list_models(con), runs=list_runs(con))
