"""One run's page: the report's sections with interactive figures."""
from __future__ import annotations

from flask import Blueprint, render_template
from markupsafe import Markup

from genesis_sql.quality.report import SECTIONS, QualityDashboard
from genesis_sql.server.db import get_db

bp = Blueprint("runs", __name__, url_prefix="/runs")


@bp.get("/<run_id>")
def show(run_id: str) -> str:
    """Show run ``run_id`` with its figures."""
    report = QualityDashboard.from_run(get_db(), run_id)
    return render_template("run.html", run=report.run, toc=SECTIONS, body=Markup(report.render_sections()))
