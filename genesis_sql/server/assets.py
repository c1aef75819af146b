"""plotly.js served by the app itself, from the installed ``plotly`` package: the dashboard needs no network."""
from __future__ import annotations

import functools

from flask import Blueprint, Response

from genesis_sql.quality._optional import require

bp = Blueprint("assets", __name__, url_prefix="/assets")


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    return require("plotly.offline").get_plotlyjs()


@bp.get("/plotly.min.js")
def plotly_js() -> Response:
    """The plotly.js bundle."""
    return Response(_plotly_js(), mimetype="text/javascript", headers={"Cache-Control": "max-age=86400"})
