"""psql 15 (postgresql-client) against the endpoint: password login, \\dv and \\d, conditioned rows, errors."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.server.pgwire.conftest import MODEL, PASSWORD, USER, Endpoint

PSQL = shutil.which("psql") or "/usr/bin/psql"
pytestmark = pytest.mark.skipif(not os.path.exists(PSQL),
                                reason="psql (postgresql-client) is not installed; .ci/run installs it")


def psql(endpoint: Endpoint, *commands: str, password: str = PASSWORD, user: str = USER) -> subprocess.CompletedProcess:
    """Run psql with each command as one -c, as a user would, with the password from PGPASSWORD."""
    args = [PSQL, "-h", endpoint.host, "-p", str(endpoint.port), "-U", user, "-d", "genesis", "-X",
            "-v", "VERBOSITY=verbose"]
    for command in commands:
        args += ["-c", command]
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="30", PGSSLMODE="prefer")
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def test_password_login_and_synthetic_views_listed(served: Endpoint) -> None:
    result = psql(served, "\\dv synthetic.*")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if MODEL in line)
    assert [part.strip() for part in line.split("|")][:3] == ["synthetic", MODEL, "view"]


def test_wrong_password_is_refused(served: Endpoint) -> None:
    result = psql(served, "SELECT 1", password="not-the-password")
    assert result.returncode != 0
    assert f'password authentication failed for user "{USER}"' in result.stderr


def test_unknown_user_is_refused_like_a_wrong_password(served: Endpoint) -> None:
    result = psql(served, "SELECT 1", user="mallory")
    assert result.returncode != 0
    assert 'password authentication failed for user "mallory"' in result.stderr


def test_describe_view_lists_the_model_columns_with_types(served: Endpoint) -> None:
    result = psql(served, f"\\d synthetic.{MODEL}")
    assert result.returncode == 0, result.stderr
    assert f'View "synthetic.{MODEL}"' in result.stdout
    columns = {parts[0]: parts[1] for parts in
               ([p.strip() for p in line.split("|")] for line in result.stdout.splitlines() if line.count("|") >= 2)}
    assert columns["age"] == "bigint"
    assert columns["stateur"] == "double precision"
    assert columns["sex"] == "character varying"
    assert columns["ui"] == "boolean"


def test_conditioned_select_returns_exactly_n_matching_rows(served: Endpoint) -> None:
    result = psql(served, "\\pset format unaligned", "\\pset tuples_only on",
                  f"SELECT age, state FROM genesis_generate('{MODEL}', 250, seed := 3) WHERE age > 50 AND state = 93")
    assert result.returncode == 0, result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if "|" in line]
    assert len(rows) == 250
    assert all(int(age) > 50 and int(state) == 93 for age, state in rows)


def test_where_on_the_synthetic_view_is_pushed(served: Endpoint) -> None:
    result = psql(served, "\\pset format unaligned", "\\pset tuples_only on",
                  f"SELECT count(*), min(age), max(state), min(state) FROM synthetic.{MODEL} "
                  "WHERE age > 50 AND state = 93")
    assert result.returncode == 0, result.stderr
    count, min_age, max_state, min_state = result.stdout.strip().splitlines()[-1].split("|")
    assert int(count) == 10_000 and int(min_age) > 50 and int(max_state) == int(min_state) == 93


def test_infeasible_condition_is_an_error_with_sqlstate(served: Endpoint) -> None:
    result = psql(served, f"SELECT * FROM synthetic.{MODEL} WHERE age > 500")
    assert result.returncode != 0
    assert "ERROR:  22023: InfeasibleConditionError" in result.stderr
    assert "[20, 61]" in result.stderr  # the message names the training support


def test_unknown_column_and_unknown_model_have_their_sqlstates(served: Endpoint) -> None:
    result = psql(served, f"SELECT * FROM genesis_generate('{MODEL}', 10) WHERE salary > 3")
    assert "ERROR:  42703" in result.stderr
    result = psql(served, "SELECT * FROM genesis_generate('nope', 10)")
    assert "ERROR:  42P01: ModelNotFoundError" in result.stderr
    result = psql(served, "SELEC 1")
    assert "ERROR:  42601" in result.stderr


def test_schema_browsing_commands(served: Endpoint) -> None:
    result = psql(served, "\\dt", "\\dn", "\\l", "\\d benefits")
    assert result.returncode == 0, result.stderr
    assert "| benefits" in result.stdout and "synthetic" in result.stdout
    assert 'Table "main.benefits"' in result.stdout
