"""Fixtures for the Postgres endpoint: a database with Benefits and a model ``workers``, and servers over
copies of it, started for real (a ``python -m genesis_sql.server.pgwire`` process, or a PgServer in this
process where a test needs to configure it), always on 127.0.0.1 and a free port.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.server.pgwire import PgServer
from tests.conftest import REPO, read_csv_sql

USER, PASSWORD = "alice", "s3cret'pw"
MODEL = "workers"


@dataclass
class Endpoint:
    """A running server: where it listens and the database file it serves."""

    host: str
    port: int
    db: Path

    def psycopg(self, **kwargs):
        import psycopg

        options = {"host": self.host, "port": self.port, "user": USER, "password": PASSWORD, "dbname": "genesis",
                   "connect_timeout": 30, **kwargs}
        return psycopg.connect(**options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served_template(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A database with the Benefits table and a copula model ``workers`` fitted on it (never served itself)."""
    path = tmp_path_factory.mktemp("pgwire") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
        genesis_sql.fit(con, MODEL, "SELECT * FROM benefits", method="copula", seed=0)
    return path


def copy_database(template: Path, folder: Path, name: str) -> Path:
    path = folder / f"{name}.duckdb"
    shutil.copyfile(template, path)
    return path


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pgwire-users") / "users.txt"
    path.write_text(f"# who may connect\n{USER}:{PASSWORD}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def served(served_template: Path, users_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """The endpoint as users run it: its own process, password authentication, read-only."""
    db = copy_database(served_template, tmp_path_factory.mktemp("pgwire-served"), "served")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "genesis_sql.server.pgwire", "--db", str(db), "--pg",
                             f"127.0.0.1:{port}", "--users", str(users_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        if not line.startswith("serving"):
            rest = proc.stdout.read() if proc.poll() is not None else ""
            raise RuntimeError(f"the server did not start: {line}{rest}")
        yield Endpoint("127.0.0.1", port, db)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture
def in_process(served_template: Path, tmp_path: Path):
    """Start a PgServer in this process over a fresh copy of the template: ``in_process(**options)``."""
    started: list[tuple[PgServer, duckdb.DuckDBPyConnection]] = []

    def start(**options) -> Endpoint:
        db = copy_database(served_template, tmp_path, f"inproc{len(started)}")
        con = duckdb.connect(str(db))
        genesis_sql.install(con)
        options.setdefault("users", {USER: PASSWORD})
        server = PgServer(con, "127.0.0.1", 0, **options).start()
        started.append((server, con))
        return Endpoint(*server.address, db)

    yield start
    for server, con in started:
        server.stop()
        con.close()


def wait_closed(port: int, timeout: float = 30) -> None:
    """Wait until nothing listens on ``port`` any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)
