"""The database is opened per request: other processes use it between requests; a held lock is a 503 page."""
from __future__ import annotations

import subprocess
import sys

import duckdb


def test_another_process_can_write_between_requests(client, db_path):
    assert client.get("/").status_code == 200
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "con.execute('CREATE TABLE written_meanwhile AS SELECT 1 AS x'); con.close()")
    subprocess.run([sys.executable, "-c", code, str(db_path)], check=True, timeout=60)
    assert client.get("/api/runs").status_code == 200


def test_a_held_lock_is_a_clear_503_page(client, held_database):
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    html = page.get_data(as_text=True)
    assert "The database is busy" in html and "is held by another process" in html
    api = client.get("/api/runs")
    assert api.status_code == 503 and api.get_json()["error"] == "DatabaseLockedError"


def test_the_app_recovers_when_the_lock_is_released(client, held_database):
    assert client.get("/").status_code == 503
    held_database.stdin.close()
    held_database.wait(timeout=30)
    assert client.get("/").status_code == 200


def test_quality_views_of_an_older_genesis_are_named(client, db_path, run_id):
    # A database last installed by a genesis without genesis.quality_risks, opened read-only by the dashboard.
    with duckdb.connect(str(db_path)) as con:
        con.execute("DROP VIEW genesis.quality_risks")
    page = client.get(f"/runs/{run_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "quality views of an older genesis (it lacks quality_risks)" in html
    assert "Open it writable once" in html
