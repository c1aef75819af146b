"""The HTML report is one self-contained file; the PDF has one page per section."""
from __future__ import annotations

import re

import duckdb
import pytest
from pypdf import PdfReader

from genesis_sql.quality import QualityDashboard
from genesis_sql.quality.report import SECTIONS


@pytest.fixture(scope="module")
def dashboard(run_db) -> QualityDashboard:
    path, run_id = run_db
    with duckdb.connect(str(path), read_only=True) as con:
        return QualityDashboard.from_run(con, run_id)


def test_html_report_is_self_contained(dashboard, tmp_path):
    html = dashboard.generate_html_report(tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html
    # Nothing is fetched: no script, style sheet, icon, image or frame comes from elsewhere.
    assert not re.findall(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["'](?!data:)""", html, re.IGNORECASE)
    assert "plotly.js v" in html
    for anchor, title in SECTIONS:
        assert f'<section id="{anchor}">' in html and f"<h2>{title}</h2>" in html
    figures = len(re.findall(r'data-figure="\d+"', html))
    # Scores and shapes, one distribution per column, three heatmaps, the projection, the privacy bars and the
    # attack success bars.
    assert figures == 2 + len(dashboard.run.columns) + 3 + 1 + 2
    # Each attack's risk with its interval, its success on the training rows and its holdout baseline.
    table = html[html.index('<table class="grid" id="attack-risks">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 1 + len(dashboard.run.risks) == 1 + 13
    for k in dashboard.run.risks:
        cells = [f"{k['risk']:.3f} [{k['risk_low']:.3f}, {k['risk_high']:.3f}]",
                 f"{k['attack_rate']:.3f} [{k['attack_rate_low']:.3f}, {k['attack_rate_high']:.3f}]",
                 f"{k['holdout_rate']:.3f} [{k['holdout_rate_low']:.3f}, {k['holdout_rate_high']:.3f}]"]
        assert all(cell in table for cell in cells)
    assert "Inference: price" in table and "(training &minus; holdout) / (1 &minus; holdout)" in html


def test_without_a_holdout_the_report_says_the_baseline_is_unavailable(con):
    from genesis_sql.quality import evaluate

    run_id = evaluate(con, "plain", "SELECT * FROM diamonds", n=500).run_id
    html = QualityDashboard.from_run(con, run_id).render_sections()
    table = html[html.index('id="attack-risks"'):]
    table = table[:table.index("</table>")]
    assert table.count('<span class="na">unavailable</span>') == 13
    assert "no holdout, so the holdout baseline is unavailable" in html


@pytest.mark.slow
def test_pdf_has_one_page_per_section(dashboard, tmp_path):
    path = dashboard.save_pdf(tmp_path / "report.pdf")
    pages = PdfReader(path).pages
    assert len(pages) == len(SECTIONS)
    for page, (_, title) in zip(pages, SECTIONS):
        text = page.extract_text()
        assert title in text and dashboard.run.run_id in text
    privacy = pages[-1].extract_text()
    assert "exact_copy_rate" in privacy and "holdout baseline" in privacy and "Linkability" in privacy
    linkability = next(k for k in dashboard.run.risks if k["attack"] == "linkability")
    assert f"{linkability['risk']:.3f} [{linkability['risk_low']:.3f}, {linkability['risk_high']:.3f}]" in privacy
