"""PgServer options, each on a server in this process: authentication modes, TLS, limits, allow_fit."""
from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server.pgwire import PgServer, load_users, scram_verifier
from tests.server.pgwire.conftest import MODEL


def test_no_auth_is_refused_off_loopback() -> None:
    with pytest.raises(InvalidArgumentError, match="no_auth is allowed only on a loopback address"):
        PgServer(None, "0.0.0.0", 0, no_auth=True).start()


def test_a_server_without_users_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="No users are configured"):
        PgServer(None, "127.0.0.1", 0).start()


def test_no_auth_lets_any_user_and_database_in(in_process) -> None:
    endpoint = in_process(no_auth=True, users=None)
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user="anyone", dbname="anything") as con:
        assert con.execute("SELECT count(*) FROM benefits").fetchall() == [(4877,)]


def test_stored_scram_verifier_authenticates(in_process) -> None:
    endpoint = in_process(users={"bob": scram_verifier("hunter2")})
    with psycopg.connect(host=endpoint.host, port=endpoint.port, user="bob", password="hunter2", dbname="x") as con:
        assert con.execute("SELECT 1").fetchall() == [(1,)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=endpoint.host, port=endpoint.port, user="bob", password="hunter3", dbname="x")


def test_users_from_the_environment() -> None:
    assert load_users(environ={"GENESIS_PG_USER": "carol", "GENESIS_PG_PASSWORD": "pw"}) == {"carol": "pw"}
    assert load_users(environ={"GENESIS_PG_PASSWORD": "pw"}) == {"genesis": "pw"}
    assert load_users(environ={}) == {}


def test_malformed_users_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("alice:pw\nbob\n", encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match=r"users:2: expected 'user:password'"):
        load_users(path)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=120)
    return str(cert), str(key)


def test_tls_when_configured(in_process, certificate: tuple[str, str]) -> None:
    endpoint = in_process(tls_cert=certificate[0], tls_key=certificate[1])
    with endpoint.psycopg(sslmode="require") as con:
        assert con.pgconn.ssl_in_use
        rows = con.execute(f"SELECT age FROM synthetic.{MODEL} WHERE age < %s", (30,)).fetchall()
    assert len(rows) == 10_000 and max(rows)[0] < 30


def test_without_tls_an_ssl_request_is_declined(in_process) -> None:
    endpoint = in_process()
    with endpoint.psycopg(sslmode="prefer") as con:
        assert not con.pgconn.ssl_in_use
    with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
        endpoint.psycopg(sslmode="require")


def test_row_limit_per_query(in_process) -> None:
    endpoint = in_process(max_rows=5000)
    with endpoint.psycopg(autocommit=True) as con:
        assert len(con.execute("SELECT * FROM range(5000)").fetchall()) == 5000
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="more than 5000 rows"):
            con.execute(f"SELECT * FROM synthetic.{MODEL}")
        assert con.execute("SELECT 1").fetchall() == [(1,)]


def test_time_limit_per_query(in_process) -> None:
    endpoint = in_process(timeout_s=1.0)
    with endpoint.psycopg(autocommit=True) as con:
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            con.execute(f"SELECT sum(age) FROM genesis_generate('{MODEL}', 500000000)")
        assert con.execute("SELECT 1").fetchall() == [(1,)]


@pytest.mark.slow
def test_allow_fit_lets_clients_fit_and_the_view_appears(in_process) -> None:
    endpoint = in_process(allow_fit=True)
    with endpoint.psycopg(autocommit=True) as con:
        con.execute("SELECT genesis_fit('older', 'SELECT age, sex, ui FROM benefits WHERE age > 40', "
                    "method := 'copula')")
        views = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'synthetic' "
                            "ORDER BY 1").fetchall()
        rows = con.execute("SELECT age FROM synthetic.older WHERE sex = %s", ("male",)).fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("SELECT genesis_drop('older')")
    assert views == [("older",), (MODEL,)]
    assert len(rows) == 10_000
