"""QualityDashboard: one stored run as a self-contained HTML report or a PDF.

The HTML file inlines plotly.js (from the ``plotly`` package), so it opens offline and references
nothing outside itself. The PDF draws the same sections with matplotlib, one page per section. Both need
the ``dashboard`` extra (``pip install genesis-sql[dashboard]``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from genesis_sql.quality import figures
from genesis_sql.quality._optional import require
from genesis_sql.quality.views import RunData

SECTIONS = (
    ("summary", "Summary"),
    ("columns", "Column distributions"),
    ("pairs", "Column pair trends"),
    ("projection", "PCA projection"),
    ("privacy", "Privacy"),
)
WEAKEST_PAIRS = 10


def _environment() -> Any:
    jinja2 = require("jinja2")
    return jinja2.Environment(loader=jinja2.PackageLoader("genesis_sql.quality", "templates"),
                              autoescape=jinja2.select_autoescape(["html"]))


def _script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


class QualityDashboard:
    """The figures and tables of one stored quality run, as HTML or PDF.

    Args:
        run: The run, read from the quality views.

    Example:
        >>> dashboard = QualityDashboard.from_run(con, run_id)  # doctest: +SKIP
        >>> Path("report.html").write_text(dashboard.generate_html_report())  # doctest: +SKIP
        >>> dashboard.save_pdf("report.pdf")  # doctest: +SKIP
    """

    def __init__(self, run: RunData) -> None:
        self.run = run

    @classmethod
    def from_run(cls, con: duckdb.DuckDBPyConnection, run_id: str) -> QualityDashboard:
        """The dashboard of stored run ``run_id``."""
        return cls(RunData.load(con, run_id))

    def figures(self) -> dict[str, list[figures.Figure]]:
        """The plotly figure specs of every section, by section anchor."""
        run = self.run
        return {
            "summary": [figures.scores_figure(run), figures.column_shapes_figure(run)],
            "columns": [figures.distribution_figure(c) for c in run.columns],
            "pairs": figures.correlation_figures(run),
            "projection": [figures.projection_figure(run)],
            "privacy": [figures.privacy_figure(run), figures.risks_figure(run)],
        }

    def render_sections(self) -> str:
        """The HTML of every section with its figures' script; the page around it must load plotly.js."""
        markup = require("markupsafe")
        flat: list[figures.Figure] = []
        placed: dict[str, list[dict[str, Any]]] = {}
        for anchor, specs in self.figures().items():
            placed[anchor] = []
            for spec in specs:
                placed[anchor].append({"id": f"figure-{anchor}-{len(placed[anchor])}", "index": len(flat)})
                flat.append(spec)
        pairs = [p for p in self.run.pairs if p["score"] is not None]
        weakest = sorted(pairs, key=lambda p: p["score"])[:WEAKEST_PAIRS]
        template = _environment().get_template("sections.html")
        return template.render(run=self.run, s=self.run.summary, sections=placed, weakest_pairs=weakest,
                               risk_label=figures.risk_label, figures_json=markup.Markup(_script_json(flat)))

    def generate_html_report(self, path: str | Path | None = None) -> str:
        """One self-contained HTML page (plotly.js inlined); also written to ``path`` when given."""
        markup = require("markupsafe")
        plotly_js = require("plotly.offline").get_plotlyjs()
        html = _environment().get_template("report.html").render(
            run=self.run, toc=SECTIONS, body=markup.Markup(self.render_sections()),
            plotly_js=markup.Markup(plotly_js),
        )
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def save_pdf(self, path: str | Path) -> Path:
        """Write the report as a PDF with static figures, one page per section; returns the path."""
        from genesis_sql.quality.static import write_pdf

        return write_pdf(self.run, Path(path), [title for _, title in SECTIONS])
