"""``genesis serve``: one process owns the database and serves Postgres wire and HTTP; the HTTP side here
(the Postgres side is tested with real clients in tests/server/pgwire)."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli

GENESIS = Path(sys.executable).with_name("genesis")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    path = tmp_path_factory.mktemp("serve") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{data_dir / 'diamonds.csv'}') LIMIT 2000")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds", method="copula")
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    path = tmp_path / "served.duckdb"
    shutil.copyfile(template, path)
    return str(path)


def free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def request(url: str, *, body: dict | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def serve(db: str, monkeypatch) -> Iterator:
    """Start ``genesis serve`` on free loopback ports; yields a function taking extra arguments and
    returning the HTTP base URL. Stopped with SIGTERM at the end (its exit is checked)."""
    pytest.importorskip("genesis_sql.server.pgwire")
    processes = []

    def start(*args: str, env: dict[str, str] | None = None) -> str:
        http = free_port()
        command = [str(GENESIS), "--db", db, "serve", "--pg", f"127.0.0.1:{free_port()}",
                   "--http", f"127.0.0.1:{http}", *args]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                                   env={**__import__("os").environ, **(env or {})})
        processes.append(process)
        line = process.stderr.readline()
        assert line.startswith("genesis serve: postgres://127.0.0.1:"), line + process.stderr.read()
        return f"http://127.0.0.1:{http}"

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
        assert process.returncode == 0 and rest.rstrip().endswith("stopped"), rest


@pytest.mark.slow
def test_serve_answers_http_and_records_served_generations(serve, db):
    url = serve("--no-auth")
    status, document = request(f"{url}/openapi.json")
    assert status == 200 and json.loads(document)["openapi"] == "3.1.0"
    status, rows = request(f"{url}/v1/models/diamonds/generate", body={"n": 100, "seed": 1, "where": "carat > 1"})
    assert status == 200 and len(rows.splitlines()) == 100
    assert all(json.loads(line)["carat"] > 1 for line in rows.splitlines())
    status, page = request(f"{url}/")  # the dashboard under the same server
    assert status == 200 and b"genesis quality" in page


@pytest.mark.slow
def test_serve_requires_the_token_it_is_given(serve):
    url = serve(env={"GENESIS_TOKEN": "tok-1", "GENESIS_PG_PASSWORD": "pw"})
    assert request(f"{url}/v1/models")[0] == 401
    assert request(f"{url}/v1/models", token="wrong")[0] == 401
    assert request(f"{url}/v1/models", token="tok-1")[0] == 200
    assert request(f"{url}/openapi.json")[0] == 200


def test_a_public_http_address_needs_a_token(db, monkeypatch):
    monkeypatch.delenv("GENESIS_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["--db", db, "serve", "--http", "0.0.0.0:0"])
    assert result.exit_code == 1
    assert "Refusing to serve the HTTP API on '0.0.0.0' without a token" in result.output
    assert "GENESIS_TOKEN" in result.output


def test_no_auth_is_only_for_loopback(db, monkeypatch):
    monkeypatch.setenv("GENESIS_TOKEN", "t")
    result = CliRunner().invoke(cli, ["--db", db, "serve", "--no-auth", "--pg", "0.0.0.0:0", "--http", "127.0.0.1:0"])
    assert result.exit_code == 1 and "--no-auth serves anyone who can connect" in result.output


@pytest.mark.parametrize("address", ["8050", "localhost:", ":8050", "host:99999", "host:http"])
def test_addresses_are_host_and_port(db, address):
    result = CliRunner().invoke(cli, ["--db", db, "serve", "--http", address])
    assert result.exit_code == 1 and "--http takes HOST:PORT" in result.output
