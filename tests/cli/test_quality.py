"""``genesis evaluate`` and ``genesis dashboard``."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

import genesis_sql
from genesis_sql.cli import cli


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    path = tmp_path_factory.mktemp("cli") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{data_dir / 'diamonds.csv'}') LIMIT 2000")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds")
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(template, path)
    return str(path)


@pytest.mark.slow
def test_evaluate_prints_scores_and_writes_both_reports(db, tmp_path):
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["--db", db, "evaluate", "diamonds", "--real", "SELECT * FROM diamonds",
                                      "--target", "price", "--report", str(html), "--pdf", str(pdf)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("run ") and "overall" in result.output and "utility" in result.output
    assert "<h2>Privacy</h2>" in html.read_text(encoding="utf-8")
    assert len(PdfReader(pdf).pages) == 5
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM genesis.quality_summary WHERE target = 'price'").fetchall() == [(1,)]
        ((risk, low, high),) = con.sql("SELECT risk, risk_low, risk_high FROM genesis.quality_risks "
                                       "WHERE attack = 'linkability'").fetchall()
    # Each attack's risk with its interval; without a holdout, the raw success rate.
    assert f"linkability risk                 {risk:.3f} [{low:.3f}, {high:.3f}]; no holdout" in result.output
    assert "singling-out multivariate risk" in result.output and "inference risk (" in result.output


def test_evaluate_bad_input_is_one_line_and_stores_nothing(db):
    result = CliRunner().invoke(cli, ["--db", db, "evaluate", "diamonds", "--real", "SELECT carat FROM diamonds"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: EvaluationError: The columns of the real query do not match the model")
    assert "Traceback" not in result.output
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM genesis.quality_runs").fetchall() == [(0,)]


def test_dashboard_refuses_a_public_host_without_a_token(db, monkeypatch):
    monkeypatch.delenv("GENESIS_DASHBOARD_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["--db", db, "dashboard", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "Refusing to serve the dashboard on '0.0.0.0' without a token" in result.output


@pytest.mark.slow
def test_dashboard_serves_on_loopback_and_leaves_the_file_free(db):
    genesis = Path(sys.executable).with_name("genesis")
    process = subprocess.Popen([str(genesis), "--db", db, "dashboard", "--port", "0"],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert "genesis dashboard on http://127.0.0.1:" in line
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
        # Between requests the dashboard holds no lock: this process can write to the file.
        with duckdb.connect(db) as con:
            con.execute("CREATE TABLE meanwhile AS SELECT 1 AS x")
    finally:
        # SIGTERM, not SIGINT: a test run started in the background of a shell passes on an ignored SIGINT.
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopped" in rest


@pytest.mark.slow
def test_the_access_log_never_shows_the_token(db):
    genesis = Path(sys.executable).with_name("genesis")
    token = "tok-8f3a1c"
    process = subprocess.Popen([str(genesis), "--db", db, "dashboard", "--port", "0", "--token", token],
                               stderr=subprocess.PIPE, text=True)
    try:
        url = process.stderr.readline().split(" on ", 1)[1].split(" ", 1)[0]
        for path in (f"?token={token}", f"api/runs?model=diamonds&token={token}", f"?TOKEN={token}#x"):
            try:
                urllib.request.urlopen(url + path, timeout=30).close()
            except urllib.error.HTTPError:
                pass  # ?TOKEN= is not the parameter the app reads: a 401, still logged
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    assert log.count("token=[redacted]") == 2 and "TOKEN=[redacted]" in log
    assert token not in log
