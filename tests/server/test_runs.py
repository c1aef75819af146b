"""A run's page."""
from __future__ import annotations

import re


def test_run_page_has_every_section_and_loads_plotly_from_the_app(client, run_id):
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<script src="/assets/plotly.min.js"></script>' in html
    for title in ("Summary", "Column distributions", "Column pair trends", "PCA projection", "Privacy"):
        assert f"<h2>{title}</h2>" in html
    assert len(re.findall(r'data-figure="\d+"', html)) == 2 + 10 + 3 + 1 + 2
    assert "<h3>Attack-based risks (Anonymeter)</h3>" in html and html.count("<td>Inference: ") == 10
    assert not re.findall(r"""(?:src|href)\s*=\s*["']https?:""", html)


def test_unknown_run_is_a_404_page(client):
    page = client.get("/runs/nope")
    assert page.status_code == 404 and "No quality run has id &#39;nope&#39;" in page.get_data(as_text=True)


def test_plotly_js_is_served_locally(client):
    script = client.get("/assets/plotly.min.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"plotly.js v" in script.data[:200]
