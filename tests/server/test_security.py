"""The guards of every genesis HTTP server: CSRF tokens on form posts, the Origin check, the Host allow-list."""
from __future__ import annotations

import re

import duckdb
import pytest

from genesis_sql.server import create_app
from genesis_sql.server.security import allowed_hosts, host_name

TOKEN = "s3cret"
UPDATE = "/models/diamonds/update_synthetic"


def run_count(db_path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.sql("SELECT count(*) FROM genesis.quality_runs").fetchall()[0][0]


@pytest.fixture(params=[None, TOKEN], ids=["no-token", "token"])
def token(request) -> str | None:
    return request.param


@pytest.fixture
def browser_client(db_path, token):
    """A test client that behaves like a browser which opened the front page (with ?token= when one is set)."""
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": token}).test_client()
    page = client.get("/" + (f"?token={token}" if token else ""))
    assert page.status_code == 200
    client.csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)
    return client


def test_a_same_origin_form_post_with_its_token_creates_a_run(browser_client, db_path):
    response = browser_client.post(UPDATE, data={"csrf_token": browser_client.csrf},
                                   headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert run_count(db_path) == 2


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:9999", "https://localhost"])
def test_a_cross_origin_form_post_is_refused_and_creates_nothing(browser_client, db_path, origin):
    # Even with a valid CSRF token (which a foreign page cannot read, but say it could).
    response = browser_client.post(UPDATE, data={"csrf_token": browser_client.csrf}, headers={"Origin": origin})
    assert response.status_code == 403 and "another site" in response.get_data(as_text=True)
    assert run_count(db_path) == 1


def test_a_cross_site_fetch_metadata_post_is_refused(browser_client, db_path):
    response = browser_client.post(UPDATE, data={"csrf_token": browser_client.csrf},
                                   headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403 and run_count(db_path) == 1


@pytest.mark.parametrize("body", [{}, {"csrf_token": ""}, {"csrf_token": "0" * 64}], ids=["none", "empty", "forged"])
def test_a_token_less_form_post_is_refused_and_creates_nothing(browser_client, db_path, body):
    response = browser_client.post(UPDATE, data=body)
    assert response.status_code == 403 and "CSRF token" in response.get_data(as_text=True)
    assert run_count(db_path) == 1


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x"])
def test_every_preflight_free_body_needs_the_token(browser_client, db_path, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    assert browser_client.post(UPDATE, data="x" if content_type else None, headers=headers).status_code == 403
    assert run_count(db_path) == 1


def test_a_token_from_another_client_does_not_fit_this_clients_cookie(browser_client, db_path, token):
    other = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": token}).test_client()
    html = other.get("/" + (f"?token={token}" if token else "")).get_data(as_text=True)
    stolen = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)
    assert browser_client.post(UPDATE, data={"csrf_token": stolen}).status_code == 403
    assert run_count(db_path) == 1


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8050", "127.0.0.2", "[::2]:8050"])
@pytest.mark.parametrize("path", ["/", "/api/runs", UPDATE])
def test_a_foreign_host_gets_400(browser_client, db_path, host, path, token):
    headers = {"Host": host}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    method = browser_client.post if path == UPDATE else browser_client.get
    response = method(path, headers=headers, data={"csrf_token": browser_client.csrf} if path == UPDATE else None)
    assert response.status_code == 400 and "does not answer the host name" in response.get_data(as_text=True)
    assert run_count(db_path) == 1


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8050", "127.0.0.1:8050"])
def test_the_bound_address_and_localhost_are_answered(browser_client, host, token):
    headers = {"Host": host, **({"Authorization": f"Bearer {token}"} if token else {})}
    assert browser_client.get("/api/runs", headers=headers).status_code == 200


def test_allowed_host_names_are_answered(db_path):
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": TOKEN, "BIND_HOST": "0.0.0.0",
                         "ALLOWED_HOSTS": ["dash.example.com"]}).test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/runs", headers={"Host": "dash.example.com:8050", **auth}).status_code == 200
    assert client.get("/api/runs", headers={"Host": "other.example.com", **auth}).status_code == 400


def test_without_the_server_token_a_post_is_401_and_creates_nothing(db_path):
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": TOKEN}).test_client()
    assert client.post(UPDATE, data={}).status_code == 401
    assert run_count(db_path) == 1


def test_an_api_client_with_the_bearer_token_needs_no_csrf_token(db_path):
    client = create_app({"TESTING": True, "DATABASE": str(db_path), "TOKEN": TOKEN}).test_client()
    response = client.post(UPDATE, headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    assert response.status_code == 200 and run_count(db_path) == 2


def test_host_names():
    assert host_name("[::1]:8050") == "::1" and host_name("Example.COM:80") == "example.com"
    assert allowed_hosts("0.0.0.0", ["a.example", " "]) == {"0.0.0.0", "localhost", "a.example"}
