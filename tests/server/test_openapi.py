"""schemathesis drives the /v1 API of a real server, from its /openapi.json: no request makes a server error,
and every answer matches the document (status codes, content types, bodies, headers)."""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi import checks  # noqa: E402

from genesis_sql.server import create_app  # noqa: E402
from genesis_sql.server.db import open_serving_connection  # noqa: E402
from genesis_sql.server.serving import HttpServer  # noqa: E402

TOKEN = "schema-token"
CHECKS = [schemathesis.checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture(scope="module")
def server_url(run_template, tmp_path_factory):
    """A server over a copy of the stored-run database, on a free loopback port, with a token."""
    import shutil

    path = tmp_path_factory.mktemp("openapi") / "served.duckdb"
    shutil.copyfile(run_template[0], path)
    con = open_serving_connection(str(path))
    app = create_app({"CONNECTION": con, "TOKEN": TOKEN, "MAX_ROWS": 2000, "BATCH_ROWS": 500,
                      "QUERY_TIMEOUT": 30})
    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    yield server.url
    server.stop()
    con.close()


@pytest.fixture(scope="module")
def api_schema(server_url):
    return schemathesis.openapi.from_url(f"{server_url}/openapi.json")


OPERATIONS = [("GET", "/v1/models"), ("GET", "/v1/models/{name}"), ("POST", "/v1/models/{name}/generate"),
              ("POST", "/v1/sql"), ("POST", "/v1/ask"), ("POST", "/v1/fit"), ("GET", "/v1/quality/runs"),
              ("GET", "/v1/quality/runs/{run_id}"), ("GET", "/v1/lineage/verify")]


def test_every_operation_is_fuzzed(api_schema):
    documented = {(method.upper(), path) for path, item in api_schema.raw_schema["paths"].items() for method in item}
    assert documented == set(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_its_document(api_schema, method, path):
    # schemathesis's pytest plugin does not load under this pytest; its Python API drives hypothesis directly.
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def keeps_document(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

    keeps_document()
