"""Property-based fuzz (Hypothesis, issue 11 item 7): random condition strings, random SQL fragments, names,
n, seeds and fit options through every entry point (SQL ``genesis_generate(condition :=)``, Python
``generate(condition=)``, CLI ``--where``, ``genesis_fit`` options) either succeed or raise a GenesisError
subclass, never anything else; a failure leaves every table as it was."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genesis_sql
from genesis_sql.cli import cli
from tests.hostile.conftest import error_names, refusal, snapshot

TOKENS = ["price", "carat", "cut", "color", "depth", "'Ideal'", "'E'", "1", "0", "-1", "2.5", "1e400", "-1e400",
          "NULL", "TRUE", "FALSE", "(", ")", "AND", "OR", "NOT", "=", ">", "<", "<>", ">=", "%", "/", "*", "+", "-",
          "||", "IN", "BETWEEN", "LIKE", "ILIKE", "IS", ",", ";", "--", "/*", "*/", "SELECT", "FROM", "victim",
          "DROP TABLE victim", "year(", "lower(", "abs(", "round(", "length(", "random()", "?", "$1", "::INT",
          "::DATE", "::VARCHAR", "'", '"', "'2020-01-01'", "CAST(", "AS", "DOUBLE", "CASE", "WHEN", "THEN", "ELSE",
          "END", "x" * 40, "\\", "\x00", "é", "COLUMNS(*)", "genesis_drop('diamonds')", "read_csv('x')"]
FRAGMENTS = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map(" ".join)
CONDITIONS = st.one_of(FRAGMENTS, st.text(max_size=40))
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def checked(con: duckdb.DuckDBPyConnection, call) -> None:
    """Run ``call``: a success is fine; a refusal must be a GenesisError and change no table."""
    before = snapshot(con)
    if refusal(call) is not None:
        assert snapshot(con) == before


@pytest.mark.slow
@SETTINGS
@given(condition=CONDITIONS)
def test_conditions_through_sql(hostile_con: duckdb.DuckDBPyConnection, condition: str):
    checked(hostile_con, lambda: hostile_con.execute(
        "SELECT * FROM genesis_generate('diamonds', 5, seed := 1, condition := ?)", [condition]).fetchall())


@pytest.mark.slow
@SETTINGS
@given(condition=CONDITIONS)
def test_conditions_through_python(hostile_con: duckdb.DuckDBPyConnection, condition: str):
    checked(hostile_con, lambda: genesis_sql.generate(hostile_con, "benefits", 5, seed=1, condition=condition))


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), FRAGMENTS, st.text(max_size=20))


@pytest.mark.slow
@SETTINGS
@given(model=st.one_of(FRAGMENTS, st.text(max_size=20), st.sampled_from(["diamonds", "diamonds@1", "benefits@2"])),
       n=SCALARS, seed=SCALARS)
def test_names_n_and_seeds_through_sql_and_python(hostile_con: duckdb.DuckDBPyConnection, model, n, seed):
    as_text = [None if v is None else str(v) for v in (model, n, seed)]
    checked(hostile_con, lambda: hostile_con.execute(
        "SELECT count(*) FROM genesis_generate(?, ?, seed := ?)", as_text).fetchall())
    checked(hostile_con, lambda: genesis_sql.generate(hostile_con, model, n, seed=seed))


OPTION_KEYS = st.sampled_from(["column_types", "sequence_key", "sequence_index", "context_columns", "holdout",
                               "constraints", "rules", "labels", "epsilon", "nonsense"])
JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     FRAGMENTS, st.sampled_from(["date", "pce", "pop", "categorical", "id"])),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.sampled_from(["date", "pce", "x"]), inner,
                                                                   max_size=3)), max_leaves=6)
OPTIONS = st.one_of(st.dictionaries(OPTION_KEYS, JSON_VALUES, max_size=3).map(
    lambda d: __import__("json").dumps(d)), FRAGMENTS, st.text(max_size=30))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(options=OPTIONS, method=st.one_of(st.sampled_from(["copula", "auto", "arf"]), FRAGMENTS))
def test_fit_options_and_methods_through_sql(hostile_con: duckdb.DuckDBPyConnection, options: str, method: str):
    checked(hostile_con, lambda: hostile_con.execute(
        "SELECT genesis_fit('fuzzed', 'SELECT * FROM economics', method := ?, options := ?)",
        [method, options]).fetchall())


@pytest.fixture(scope="module")
def cli_db(models_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("fuzz_cli") / "cli.duckdb"
    shutil.copyfile(models_template, path)
    return str(path)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(condition=CONDITIONS.filter(lambda c: "\x00" not in c and not c.startswith("-")))
def test_conditions_through_the_cli(cli_db: str, condition: str):
    result = CliRunner().invoke(cli, ["--db", cli_db, "generate", "diamonds", "5", "--seed", "1", "--where",
                                      condition])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        last = result.stderr.splitlines()[-1]
        assert any(last.startswith(f"Error: {name}: ") for name in error_names()), result.stderr
