"""The dashboard and the HTML report in a real headless Chromium (Debian's chromium + chromedriver)."""
from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from genesis_sql.quality import QualityDashboard
from genesis_sql.server import create_app
from genesis_sql.server.serving import HttpServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Without these, Chromium floods the closed network with background requests (DESIGN.md).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000",
         # Names a page on another site would have: evil.test for an attacker's page, rebind.test for a
         # DNS-rebinding name that resolves to this machine.
         "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1")
FIGURES = 2 + 10 + 3 + 1 + 2

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


TOKEN = "s3cret"


@pytest.fixture(params=[None, TOKEN], ids=["no-token", "token"])
def token(request) -> str | None:
    return request.param


@pytest.fixture
def server(db_path: Path, token: str | None) -> Iterator[str]:
    """The dashboard served on 127.0.0.1 (a free port) from a background thread; yields its base URL."""
    http_server = HttpServer(create_app({"DATABASE": str(db_path), "TOKEN": token}), "127.0.0.1", 0)
    http_server.start()
    yield http_server.url
    http_server.stop()


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Another site: a folder served on a free port, reached as http://evil.test:PORT; yields (folder, URL)."""
    folder = tmp_path / "evil"
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://evil.test:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def open_dashboard(driver: webdriver.Chrome, server: str, token: str | None) -> None:
    """Open the front page the way its user does (the first visit with ?token= when there is one)."""
    driver.get(f"{server}/" + (f"?token={token}" if token else ""))


def run_count(db_path: Path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.sql("SELECT count(*) FROM genesis.quality_runs").fetchall()[0][0]


def rendered_figures(driver: webdriver.Chrome) -> int:
    """How many figures plotly.js has drawn (each one an SVG inside a .plot-container)."""
    return driver.execute_script("return document.querySelectorAll('.figure .plot-container .main-svg').length")


def severe(driver: webdriver.Chrome) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_run_page_renders_its_figures(browser, server, token, run_id, tmp_path):
    open_dashboard(browser, server, token)
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


def test_the_re_evaluate_button_creates_a_run(browser, server, token, db_path, run_id):
    open_dashboard(browser, server, token)
    browser.find_element("css selector", "#models button[type=submit]").click()
    WebDriverWait(browser, 120).until(lambda d: "/runs/" in d.current_url and run_id not in d.current_url)
    assert browser.title == "diamonds@1 quality"
    assert run_count(db_path) == 2


def test_a_form_on_another_site_cannot_re_evaluate(browser, server, token, db_path, attacker):
    folder, evil = attacker
    open_dashboard(browser, server, token)  # the victim is logged in (holds the token and CSRF cookies)
    (folder / "index.html").write_text(
        f'<form id="f" method="post" action="{server}/models/diamonds/update_synthetic">'
        '<input type="hidden" name="csrf_token" value="guessed"></form>'
        '<script>document.getElementById("f").submit()</script>', encoding="utf-8")
    browser.get(f"{evil}/index.html")
    WebDriverWait(browser, 60).until(lambda d: d.current_url.startswith(server))
    body = browser.find_element("tag name", "body").text
    assert "Cross-origin request refused" in body
    assert run_count(db_path) == 1


def test_a_rebound_host_name_cannot_read_the_runs(browser, server, token):
    port = server.rsplit(":", 1)[1]
    browser.get(f"http://rebind.test:{port}/api/runs" + (f"?token={token}" if token else ""))
    body = browser.find_element("tag name", "body").text
    assert "does not answer the host name 'rebind.test'" in body and "run_id" not in body
