"""The /v1 HTTP API over a connection the process owns (as under ``genesis serve``)."""
from __future__ import annotations

import csv
import io
import json
import shutil

import duckdb
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

from genesis_sql.server import create_app
from genesis_sql.server.db import open_serving_connection

TOKEN = "t0ken"
BATCH = 1000


@pytest.fixture
def served(db_path):
    """The stored-run database opened the way ``genesis serve`` opens it."""
    con = open_serving_connection(str(db_path))
    yield con
    con.close()


def api(served, **config):
    settings = {"TESTING": True, "CONNECTION": served, "BATCH_ROWS": BATCH, "MAX_ROWS": 50_000, **config}
    return create_app(settings).test_client()


@pytest.fixture
def client(served):
    return api(served)


def generation_blocks(con) -> list[dict]:
    rows = con.execute("SELECT content FROM genesis.lineage WHERE block_type = 'generation' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def assert_problem(response, status: int, error: str, text: str = "") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["error"] == error and body["type"].endswith(error)
    assert text in body["detail"]
    return body


def test_models_are_listed_with_their_versions(client):
    (model,) = client.get("/v1/models").get_json()["models"]
    assert model["name"] == "diamonds" and model["versions"] == [1] and model["version"] == 1
    assert model["columns"] == 10 and 0 < model["quality"] <= 1


def test_one_model_has_columns_versions_and_quality(client, run_id):
    body = client.get("/v1/models/diamonds").get_json()
    assert [c["name"] for c in body["columns"]][:3] == ["carat", "cut", "color"]
    assert {c["kind"] for c in body["columns"]} == {"numeric", "categorical", "integer"}
    assert [v["version"] for v in body["versions"]] == [1] and body["quality"]["run_id"] == run_id
    assert client.get("/v1/models/diamonds@1").get_json()["version"] == 1


def test_unknown_and_invalid_model_names_are_problems(client):
    assert_problem(client.get("/v1/models/diamond"), 404, "ModelNotFoundError", "Did you mean 'diamonds'?")
    assert_problem(client.get("/v1/models/diamonds@7"), 404, "ModelNotFoundError", "no version 7")
    assert_problem(client.get("/v1/models/1x"), 400, "InvalidModelNameError")


@pytest.mark.parametrize("accept", ["application/vnd.apache.arrow.stream", "application/vnd.apache.parquet",
                                    "text/csv", "application/x-ndjson", None])
def test_generate_answers_n_matching_rows_in_the_asked_format(client, served, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.post("/v1/models/diamonds/generate", json={"n": 2500, "seed": 7, "where": "carat > 1"},
                           headers=headers)
    assert response.status_code == 200 and response.mimetype == (accept or "application/x-ndjson")
    assert response.headers["Genesis-Model"] == "diamonds@1" and response.headers["Genesis-Seed"] == "7"
    data = response.get_data()
    if accept == "application/vnd.apache.arrow.stream":
        reader = pa.ipc.open_stream(data)
        table = reader.read_all()
        assert len(table.to_batches()) == 3  # streamed in batches of BATCH rows
    elif accept == "application/vnd.apache.parquet":
        table = pq.read_table(io.BytesIO(data))
        assert pq.ParquetFile(io.BytesIO(data)).num_row_groups == 3
    elif accept == "text/csv":
        table = pa.Table.from_pylist([{"carat": float(r["carat"])} for r in csv.DictReader(io.StringIO(data.decode()))])
    else:
        table = pa.Table.from_pylist([json.loads(line) for line in data.decode().splitlines()])
    assert table.num_rows == 2500 and min(table.column("carat").to_pylist()) > 1
    (block,) = generation_blocks(served)
    assert block["n"] == 2500 and block["seed"] == 7 and "carat" in block["conditions"]
    assert block["row_count"] == 2500


def test_the_same_seed_gives_the_same_rows_as_sql(client, served):
    body = client.post("/v1/models/diamonds/generate", json={"n": 300, "seed": 3},
                       headers={"Accept": "application/vnd.apache.arrow.stream"}).get_data()
    served_rows = pa.ipc.open_stream(body).read_all()
    in_process = served.sql("SELECT * FROM genesis_generate('diamonds', 300, seed := 3)").to_arrow_table()
    assert served_rows.to_pylist() == in_process.to_pylist()


def test_zero_rows_still_carry_the_columns(client):
    body = client.post("/v1/models/diamonds/generate", json={"n": 0}, headers={"Accept": "text/csv"}).get_data()
    assert body.decode().splitlines() == ['"carat","cut","color","clarity","depth","table","price","x","y","z"']


@pytest.mark.parametrize(("body", "status", "error", "text"), [
    ({"n": 10, "where": "carat >"}, 400, "ConditionSyntaxError", ""),
    ({"n": 10, "where": "nope > 1"}, 400, "UnknownColumnError", "nope"),
    ({"n": 10, "where": "carat > 99"}, 400, "InfeasibleConditionError", "carat"),
    ({"n": 50_001}, 400, "InvalidArgumentError", "50,000 rows"),
    ({"n": -1}, 400, "InvalidArgumentError", "n"),
    ({"n": "ten"}, 400, "InvalidArgumentError", "n must be a whole number"),
    ({"n": True}, 400, "InvalidArgumentError", "n must be a whole number"),
    ({"n": 10, "seed": -5}, 400, "InvalidArgumentError", "seed"),
    ({"n": 10, "extra": 1}, 400, "InvalidArgumentError", "Unknown extra"),
    ({}, 400, "InvalidArgumentError", "Missing n"),
    ([1, 2], 400, "InvalidArgumentError", "one JSON object"),
])
def test_bad_generation_requests_are_problems_and_record_nothing(client, served, body, status, error, text):
    assert_problem(client.post("/v1/models/diamonds/generate", json=body), status, error, text)
    assert generation_blocks(served) == []


def test_unacceptable_formats_and_non_json_bodies(client):
    assert_problem(client.post("/v1/models/diamonds/generate", json={"n": 1}, headers={"Accept": "text/html"}),
                   406, "NotAcceptable", "text/csv")
    response = client.post("/v1/models/diamonds/generate", data="n=1", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer x"})
    assert_problem(response, 415, "UnsupportedMediaType", "JSON")


def test_sql_pushes_the_where_clause_into_the_generator(client, served):
    query = "SELECT carat, cut FROM genesis_generate('diamonds', 2000, seed := 5) WHERE carat > 1 AND cut = 'Ideal'"
    response = client.post("/v1/sql", json={"sql": query}, headers={"Accept": "application/vnd.apache.arrow.stream"})
    table = pa.ipc.open_stream(response.get_data()).read_all()
    assert table.num_rows == 2000 and set(table.column("cut").to_pylist()) == {"Ideal"}
    (block,) = generation_blocks(served)
    assert block["n"] == 2000 and block["row_count"] == 2000 and "Ideal" in block["conditions"]


def test_sql_reads_user_tables_and_binds_parameters(client):
    response = client.post("/v1/sql", json={"sql": "SELECT count(*) AS n FROM diamonds WHERE carat > ?",
                                            "params": [1.0]})
    assert response.status_code == 200 and json.loads(response.get_data())["n"] > 0


@pytest.mark.parametrize("sql", [
    "CREATE TABLE stolen AS SELECT * FROM diamonds",
    "DROP TABLE diamonds",
    "DELETE FROM diamonds",
    "INSERT INTO diamonds SELECT * FROM diamonds",
    "COPY diamonds TO 'out.csv'",
    "ATTACH 'other.duckdb' AS other",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA database_list",
    "SET threads = 1",
    "SELECT 1; DROP TABLE diamonds",
    "SELECT genesis_drop('diamonds')",
    "SELECT genesis_fit('x', 'SELECT * FROM diamonds')",
])
def test_sql_is_read_only(client, served, sql):
    body = assert_problem(client.post("/v1/sql", json={"sql": sql}), 400, "InvalidArgumentError")
    assert "read-only" in body["detail"] or "may not" in body["detail"] or "refused" in body["detail"]
    assert served.sql("SELECT count(*) FROM diamonds").fetchall() == [(2000,)]
    assert served.sql("SELECT count(*) FROM genesis_models()").fetchall() == [(1,)]


def test_the_serving_connection_refuses_files_even_past_the_gate(served):
    with pytest.raises(duckdb.PermissionException):
        served.cursor().sql("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        served.cursor().execute("SET enable_external_access = true")


def test_sql_errors_name_their_class(client):
    assert_problem(client.post("/v1/sql", json={"sql": "SELECT * FROM nowhere"}), 400, "CatalogException", "nowhere")
    response = client.post("/v1/sql", json={
        "sql": "SELECT * FROM genesis_generate('diamonds', 10) WHERE carat > 99"})
    assert_problem(response, 400, "InfeasibleConditionError", "carat")


def test_sql_refuses_results_over_the_row_limit(served):
    response = api(served, MAX_ROWS=500).post("/v1/sql", json={"sql": "SELECT * FROM diamonds"})
    assert_problem(response, 400, "RowLimitExceeded", "500 rows")


def test_fit_needs_allow_fit(client, served):
    assert_problem(client.post("/v1/fit", json={"model": "d2", "sql": "SELECT carat, cut FROM diamonds"}),
                   403, "FittingNotAllowed", "--allow-fit")
    assert served.sql("SELECT count(*) FROM genesis_models()").fetchall() == [(1,)]


def test_a_served_fit_stores_a_model_that_generates_afterwards(served):
    client = api(served, ALLOW_FIT=True)
    response = client.post("/v1/fit", json={"model": "small", "sql": "SELECT carat, cut FROM diamonds",
                                            "method": "copula", "options": {"holdout": 0.2}})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == "small" and body["version"] == 1 and body["holdout_rows"] > 0
    # The model's row function outlives the request that registered it.
    for _ in range(2):
        rows = client.post("/v1/sql", json={"sql": "SELECT * FROM genesis_generate('small', 50, seed := 1)"})
        assert rows.status_code == 200 and len(rows.get_data().splitlines()) == 50
    assert_problem(client.post("/v1/fit", json={"model": "x", "sql": "SELECT 1; DROP TABLE diamonds"}),
                   400, "InvalidArgumentError", "exactly one read-only SELECT")


def test_quality_runs_and_lineage_verification(client, run_id):
    (run,) = client.get("/v1/quality/runs").get_json()["runs"]
    assert run["run_id"] == run_id and isinstance(run["created_at"], str)
    assert client.get("/v1/quality/runs?model=other").get_json() == {"runs": []}
    assert set(client.get(f"/v1/quality/runs/{run_id}").get_json()) == {"summary", "columns", "pairs", "privacy",
                                                                        "projection", "rules", "risks"}
    assert_problem(client.get("/v1/quality/runs/nope"), 404, "RunNotFoundError")
    verification = client.get("/v1/lineage/verify").get_json()
    assert verification["ok"] is True and verification["blocks"] > 0


def test_unknown_paths_and_methods_are_problems(client):
    assert_problem(client.get("/v1/nothing"), 404, "NotFound")
    assert_problem(client.get("/v1/sql"), 405, "MethodNotAllowed")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dDB rZW4="}],
                         ids=["no-token", "wrong-token", "not-bearer"])
def test_the_token_is_required(served, headers):
    client = api(served, TOKEN=TOKEN)
    for response in (client.get("/v1/models", headers=headers),
                     client.post("/v1/models/diamonds/generate", json={"n": 5}, headers=headers),
                     client.post("/v1/sql", json={"sql": "SELECT 1"}, headers=headers)):
        assert_problem(response, 401, "TokenRequired")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert generation_blocks(served) == []


def test_the_right_token_is_accepted_and_the_document_is_public(served):
    client = api(served, TOKEN=TOKEN)
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    document = client.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0" and document["security"] == [{"bearer": []}]
    assert "security" not in api(served).get("/openapi.json").get_json()


def test_a_foreign_host_or_origin_is_refused(client, served):
    assert_problem(client.get("/v1/models", headers={"Host": "evil.example"}), 400, "HostNotAllowed")
    response = client.post("/v1/models/diamonds/generate", json={"n": 5}, headers={"Origin": "http://evil.example"})
    assert_problem(response, 403, "CrossOriginRequestRefused")
    assert generation_blocks(served) == []


def test_a_database_copy_keeps_working_per_request(db_path, tmp_path):
    # The dashboard's mode (no shared connection): the API opens the file per request.
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(db_path, path)
    client = create_app({"TESTING": True, "DATABASE": str(path)}).test_client()
    assert client.get("/v1/models").get_json()["models"][0]["name"] == "diamonds"
    response = client.post("/v1/sql", json={"sql": "SELECT count(*) AS n FROM genesis_generate('diamonds', 20)"})
    assert json.loads(response.get_data()) == {"n": 20}
    assert_problem(client.post("/v1/sql", json={"sql": "SELECT * FROM 'x.csv'"}), 400, "InvalidArgumentError")


def test_ask_reads_a_request_into_sql_that_sql_then_runs(client):
    reading = client.post("/v1/ask", json={"text": "500 diamonds with carat over 1 and cut Ideal"}).get_json()
    assert reading["sql"].startswith("SELECT * FROM genesis_generate('diamonds', 500) WHERE")
    assert reading["model"] == "diamonds" and reading["n"] == 500 and not reading["needs_confirmation"]
    response = client.post("/v1/sql", json={"sql": reading["sql"]},
                           headers={"Accept": "application/vnd.apache.arrow.stream"})
    table = pa.ipc.open_stream(response.get_data()).read_all()
    assert table.num_rows == 500 and set(table.column("cut").to_pylist()) == {"Ideal"}
    assert min(table.column("carat").to_pylist()) > 1
    vague = client.post("/v1/ask", json={"text": "500 shiny diamonds"}).get_json()
    assert vague["needs_confirmation"] and vague["unparsed"]
    assert_problem(client.post("/v1/ask", json={"text": ""}), 400, "InvalidArgumentError", "text must be")
