"""The JSON endpoints."""
from __future__ import annotations


def test_runs_list(client, run_id):
    body = client.get("/api/runs").get_json()
    (run,) = body["runs"]
    assert run["run_id"] == run_id and run["model"] == "diamonds" and 0 < run["overall"] <= 1
    assert isinstance(run["created_at"], str)
    assert client.get("/api/runs?model=other").get_json() == {"runs": []}


def test_one_run(client, run_id):
    body = client.get(f"/api/runs/{run_id}").get_json()
    assert set(body) == {"summary", "columns", "pairs", "privacy", "projection", "rules", "risks"}
    assert body["summary"]["run_id"] == run_id and len(body["columns"]) == 10 and len(body["pairs"]) == 45
    # The attack-based risks: three attacks and an inference per secret column, each with its holdout baseline.
    assert [k["attack"] for k in body["risks"]][:4] == ["singling_out_univariate", "singling_out_multivariate",
                                                        "linkability", "inference"] and len(body["risks"]) == 13
    assert all(k["holdout_rate"] is not None and k["risk_low"] <= k["risk"] <= k["risk_high"] for k in body["risks"])
    assert body["columns"][0]["distribution"]["kind"] == "histogram"


def test_unknown_run_is_json_404(client):
    response = client.get("/api/runs/nope")
    assert response.status_code == 404 and response.get_json()["error"] == "RunNotFoundError"
