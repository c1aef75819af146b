"""create_app, binding rules and the token."""
from __future__ import annotations

import pytest

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server import check_bind, create_app


def test_blueprints_one_per_page_and_per_api_resource():
    app = create_app({"TESTING": True, "DATABASE": "unused.duckdb"})
    assert sorted(app.blueprints) == ["api", "assets", "dashboard", "openapi", "runs", "update", "v1_ask", "v1_fit",
                                      "v1_lineage", "v1_models", "v1_quality", "v1_sql"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_needs_no_token(host: str):
    check_bind(host, None)


def test_other_hosts_need_a_token():
    with pytest.raises(InvalidArgumentError, match="Refusing to serve the dashboard on '0.0.0.0' without a token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "s3cret")


def test_a_configured_token_is_required(db_path):
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": "s3cret"}).test_client()
    assert client.get("/api/runs").status_code == 401
    assert client.get("/api/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = client.get("/?token=s3cret")
    assert first.status_code == 200 and "genesis_token=s3cret" in first.headers["Set-Cookie"]
    assert client.get("/api/runs").status_code == 200  # the cookie now carries the token
