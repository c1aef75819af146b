"""pgjdbc 42.5 (Debian libpostgresql-jdbc-java, the driver DBeaver, Metabase and Tableau use) against the
endpoint, through the single-file Java client beside this test."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.pgwire.conftest import MODEL, PASSWORD, USER, Endpoint

JAR = Path("/usr/share/java/postgresql.jar")
JAVA = shutil.which("java")
CLIENT = Path(__file__).with_name("Client.java")
pytestmark = pytest.mark.skipif(JAVA is None or not JAR.exists(),
                                reason="java and pgjdbc are not installed (.ci/run installs default-jre-headless "
                                       "and libpostgresql-jdbc-java)")


@pytest.fixture(scope="module")
def jdbc_output(served: Endpoint) -> dict[str, list[str]]:
    """What Client.java printed, as key -> values."""
    url = f"jdbc:postgresql://{served.host}:{served.port}/genesis"
    result = subprocess.run([JAVA, "-cp", str(JAR), str(CLIENT), url, USER, PASSWORD, MODEL],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    facts: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        facts.setdefault(key, []).append(value)
    return facts


def test_connects_as_postgres(jdbc_output: dict[str, list[str]]) -> None:
    assert jdbc_output["product"] == ["PostgreSQL 15.0"]


def test_get_tables_lists_models_as_views_and_user_tables(jdbc_output: dict[str, list[str]]) -> None:
    assert jdbc_output["view"] == [f"synthetic.{MODEL} VIEW"]
    assert "main.benefits" in jdbc_output["table"]


def test_get_columns_types(jdbc_output: dict[str, list[str]]) -> None:
    columns = {value.split()[0]: value.split()[1:] for value in jdbc_output["column"]}
    assert len(columns) == 18
    assert columns["age"] == ["int8", "-5"]        # java.sql.Types.BIGINT
    assert columns["stateur"] == ["float8", "8"]   # DOUBLE
    assert columns["sex"] == ["varchar", "12"]     # VARCHAR
    assert columns["ui"] == ["bool", "-7"]         # BIT, as pgjdbc reports booleans


def test_prepared_statement_with_parameters_is_pushed(jdbc_output: dict[str, list[str]]) -> None:
    # Six rounds: the last ones run as a server-prepared statement with binary results.
    assert jdbc_output["prepared"] == ["10000 10000"] * 6


def test_typed_values(jdbc_output: dict[str, list[str]]) -> None:
    assert jdbc_output["typed"] == ["42 2.5 x true 2024-02-29 2024-02-29 12:34:56.0 12.50"]


def test_error_sqlstate(jdbc_output: dict[str, list[str]]) -> None:
    assert jdbc_output["error"] == ["22023"]
