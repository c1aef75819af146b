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
    # Scores and shapes, one distribution per column, three heatmaps, the projection and the privacy bars.
    assert figures == 2 + len(dashboard.run.columns) + 3 + 1 + 1


@pytest.mark.slow
def test_pdf_has_one_page_per_section(dashboard, tmp_path):
    path = dashboard.save_pdf(tmp_path / "report.pdf")
    pages = PdfReader(path).pages
    assert len(pages) == len(SECTIONS)
    for page, (_, title) in zip(pages, SECTIONS):
        text = page.extract_text()
        assert title in text and dashboard.run.run_id in text
    assert "exact_copy_rate" in pages[-1].extract_text()
