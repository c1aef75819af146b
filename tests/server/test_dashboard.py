"""The front page: models and runs."""
from __future__ import annotations

import shutil

import duckdb

import genesis_sql
from genesis_sql.server import create_app


def test_lists_models_and_runs(client, run_id, db_path):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/runs/{run_id}"' in html and "diamonds@1" in html
    assert 'action="/models/diamonds/update_synthetic"' in html
    with duckdb.connect(str(db_path), read_only=True) as con:  # the runs table shows each attack's risk
        risks = con.sql("SELECT singling_out_multivariate_risk, linkability_risk, inference_risk "
                        "FROM genesis.quality_summary WHERE run_id = ?", params=[run_id]).fetchall()[0]
    runs = html[html.index('id="runs"'):]
    row = runs[runs.index(f'href="/runs/{run_id}"'):]
    row = row[:row.index("</tr>")]
    assert ">Linkability</th>" in html and all(f"<td>{risk:.3f}</td>" in row for risk in risks)


def test_a_database_without_runs_says_how_to_make_one(tmp_path):
    path = tmp_path / "empty.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
    html = create_app({"TESTING": True, "DATABASE": str(path)}).test_client().get("/").get_data(as_text=True)
    assert "No quality runs yet" in html


def test_a_missing_database_is_a_clear_page(tmp_path):
    page = create_app({"TESTING": True, "DATABASE": str(tmp_path / "nope.duckdb")}).test_client().get("/")
    assert page.status_code == 404 and "There is no database at" in page.get_data(as_text=True)


def test_works_on_the_default_file_name(db_path, run_id, tmp_path):
    # genesis.duckdb, the CLI's default, is attached under an alias; the views must still be found.
    path = tmp_path / "genesis.duckdb"
    shutil.copyfile(db_path, path)
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    assert f'href="/runs/{run_id}"' in client.get("/").get_data(as_text=True)
    assert client.get(f"/api/runs/{run_id}").status_code == 200
