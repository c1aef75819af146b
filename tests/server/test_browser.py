"""The dashboard and the HTML report in a real headless Chromium (Debian's chromium + chromedriver)."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from genesis_sql.quality import QualityDashboard
from genesis_sql.server import create_app

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Without these, Chromium floods the closed network with background requests (DESIGN.md).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")
FIGURES = 2 + 10 + 3 + 1 + 1

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile that keeps its console log."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def server(db_path: Path) -> Iterator[str]:
    """The dashboard served on 127.0.0.1 (a free port) from a background thread; yields its base URL."""
    app = create_app({"DATABASE": str(db_path)})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def rendered_figures(driver: webdriver.Chrome) -> int:
    """How many figures plotly.js has drawn (each one an SVG inside a .plot-container)."""
    return driver.execute_script("return document.querySelectorAll('.figure .plot-container .main-svg').length")


def severe(driver: webdriver.Chrome) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_run_page_renders_its_figures(browser, server, run_id, tmp_path):
    browser.get(f"{server}/")
    browser.find_element("css selector", f'a[href="/runs/{run_id}"]').click()
    WebDriverWait(browser, 60).until(lambda d: rendered_figures(d) >= FIGURES)
    assert browser.title == "diamonds@1 quality"
    assert browser.execute_script("return document.querySelectorAll('.heatmaplayer, .hm').length") > 0
    assert severe(browser) == []
    screenshot = tmp_path / "run-page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_report_renders_offline(browser, db_path, run_id, tmp_path):
    with duckdb.connect(str(db_path), read_only=True) as con:
        report = tmp_path / "report.html"
        QualityDashboard.from_run(con, run_id).generate_html_report(report)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions",
                            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    browser.get(report.as_uri())
    WebDriverWait(browser, 60).until(lambda d: rendered_figures(d) >= FIGURES)
    assert severe(browser) == []
    assert browser.save_screenshot(str(tmp_path / "report.png"))
