"""Dashboard charts in a real headless Chromium: a categorical column of numeric codes is drawn on a
category axis (one bar per code), not as slivers on a numeric axis; rules kept are shown."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.server import create_app
from genesis_sql.server.serving import HttpServer
from tests.server.test_browser import browser, pytestmark, rendered_figures, severe  # noqa: F401

from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402  (importorskip'd by test_browser)


@pytest.fixture
def coded_run(db_path: Path) -> tuple[Path, str]:
    """A run of a model whose ``cut_code`` column holds the codes 1-5 (a categorical column)."""
    from genesis_sql.quality import evaluate

    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.execute("""CREATE TABLE coded AS SELECT carat, price,
            CASE cut WHEN 'Fair' THEN 1 WHEN 'Good' THEN 2 WHEN 'Very Good' THEN 3 WHEN 'Premium' THEN 4 ELSE 9 END
            AS cut_code FROM diamonds""")
        genesis_sql.fit(con, "coded", "SELECT * FROM coded", method="copula")
        run_id = evaluate(con, "coded", "SELECT * FROM coded", n=1000).run_id
    return db_path, run_id


@pytest.fixture
def server(coded_run: tuple[Path, str]) -> Iterator[str]:
    http_server = HttpServer(create_app({"DATABASE": str(coded_run[0]), "TOKEN": None}), "127.0.0.1", 0)
    http_server.start()
    yield http_server.url
    http_server.stop()


def test_numeric_codes_are_drawn_as_categories(browser, server, coded_run):  # noqa: F811
    browser.get(f"{server}/runs/{coded_run[1]}")
    WebDriverWait(browser, 60).until(lambda d: rendered_figures(d) >= 3)
    axes = browser.execute_script("""
        return Array.from(document.querySelectorAll('#columns .figure')).map(function (div) {
            var layout = div._fullLayout;
            return {title: layout.title.text, type: layout.xaxis.type,
                    bars: div.querySelectorAll('.bars .point').length};
        });""")
    coded = next(a for a in axes if a["title"].startswith("cut_code"))
    assert coded["type"] == "category"
    assert coded["bars"] == 2 * 5  # real and synthetic bar for each of the five codes
    assert "Rules kept" in browser.find_element("css selector", "#summary").text
    assert severe(browser) == []
