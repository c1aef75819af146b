"""update_synthetic: re-evaluate a model with its latest run's queries."""
from __future__ import annotations

import re

import duckdb


def csrf_token(client) -> str:
    """The CSRF token of the front page's forms (its nonce cookie is now in ``client``)."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def test_update_synthetic_stores_a_new_run_and_redirects_to_it(client, db_path, run_id):
    response = client.post("/models/diamonds/update_synthetic", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    new_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert new_id != run_id
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.sql("SELECT run_id, real_sql, target FROM genesis.quality_summary ORDER BY created_at").fetchall()
    assert [r[0] for r in rows] == [run_id, new_id] and rows[0][1:] == rows[1][1:]
    assert client.get(response.headers["Location"]).status_code == 200


def test_update_synthetic_answers_json_when_asked(client):
    body = client.post("/models/diamonds/update_synthetic",
                       headers={"Accept": "application/json", "X-CSRF-Token": csrf_token(client)}).get_json()
    assert len(body["run_id"]) == 32 and 0 < body["overall"] <= 1


def test_a_model_without_runs_cannot_be_updated(client):
    response = client.post("/models/other/update_synthetic", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404 and "has no quality run to repeat" in response.get_data(as_text=True)


def test_update_is_post_only(client):
    assert client.get("/models/diamonds/update_synthetic").status_code == 405
