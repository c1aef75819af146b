"""Query arguments are exactly one read-only SELECT: smuggled statements never run, through any entry point.

The payloads are issue 11's: text that closes the wrapper's parenthesis and appends a statement, plain
multi-statement text, and writing genesis functions hidden in a query. Each goes through every query
argument (fit, evaluate and its stored re-run, genesis_fit, genesis_evaluate, genesis sql, genesis_query)
and must raise a GenesisError with the victim table, the catalog and the lineage exactly as they were.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli
from genesis_sql.errors import EvaluationError, FitError, GenesisError, InvalidArgumentError
from genesis_sql.quality import evaluate
from genesis_sql.sql.statements import validate_query

PAYLOADS = [
    "SELECT * FROM benefits); DROP TABLE victim; --",
    "SELECT * FROM benefits); DELETE FROM genesis.lineage; --",
    "SELECT * FROM benefits; DROP TABLE victim",
    "SELECT 1; DELETE FROM genesis.lineage",
    "DROP TABLE victim",
    "SELECT genesis_drop('benefits')",
    "SELECT * FROM query('SELECT genesis_drop(''benefits'')')",
    "WITH x AS (SELECT genesis_fit('w9', 'SELECT 1') AS s) SELECT * FROM x",
]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cli(db: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    if result.exit_code != 0:
        raise GenesisError(result.output)


# entry point -> call(db path, open connection, payload); CLI entries open the file themselves.
ENTRIES: dict[str, Callable[[Path, duckdb.DuckDBPyConnection, str], object]] = {
    "fit (Python)": lambda db, con, q: genesis_sql.fit(con, "w2", q),
    "genesis_fit (SQL)": lambda db, con, q: con.execute(f"SELECT genesis_fit('w3', {_quoted(q)})").fetchall(),
    "genesis fit (CLI)": lambda db, con, q: _cli(db, "fit", "w4", "--sql", q),
    "evaluate real (Python)": lambda db, con, q: evaluate(con, "benefits", q),
    "evaluate holdout (Python)": lambda db, con, q: evaluate(con, "benefits", "SELECT * FROM benefits", holdout_sql=q),
    "genesis_evaluate real (SQL)": lambda db, con, q: con.execute(
        f"SELECT genesis_evaluate('benefits', {_quoted(q)})").fetchall(),
    "genesis_evaluate holdout (SQL)": lambda db, con, q: con.execute(
        f"SELECT genesis_evaluate('benefits', 'SELECT * FROM benefits', holdout_sql := {_quoted(q)})").fetchall(),
    "genesis evaluate (CLI)": lambda db, con, q: _cli(db, "evaluate", "benefits", "--real", q),
    "genesis sql (CLI)": lambda db, con, q: _cli(db, "sql", q),
    "genesis_query (SQL)": lambda db, con, q: con.execute(f"SELECT * FROM genesis_query({_quoted(q)})").fetchall(),
}
CLI_ENTRIES = {name for name in ENTRIES if "(CLI)" in name}


def snapshot(con: duckdb.DuckDBPyConnection) -> tuple:
    """The victim's rows, every lineage block, the models and the quality runs."""
    return (
        con.execute("SELECT * FROM victim ORDER BY x").fetchall(),
        con.execute("SELECT seq, hash FROM genesis.lineage ORDER BY seq").fetchall(),
        con.execute("SELECT name, version, content_hash FROM genesis.models ORDER BY ALL").fetchall(),
        con.execute("SELECT run_id FROM genesis.quality_runs ORDER BY run_id").fetchall(),
    )


@pytest.fixture
def shop(models_db: Path):
    """The fitted-models file with a `victim` table, opened through a plain installed connection."""
    con = duckdb.connect(str(models_db))
    genesis_sql.install(con)
    con.execute("CREATE TABLE victim AS SELECT range AS x FROM range(3)")
    yield models_db, con
    con.close()


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_smuggled_statement_never_runs(shop, entry: str) -> None:
    db, con = shop
    before = snapshot(con)
    # A CLI command opens, installs and closes the file each time: the issue's own payloads suffice there.
    for payload in PAYLOADS[:3] if entry in CLI_ENTRIES else PAYLOADS:
        if entry in CLI_ENTRIES:
            con.close()  # the CLI opens the file itself
        with pytest.raises((GenesisError, duckdb.Error)) as caught:
            ENTRIES[entry](db, con, payload)
        if entry in CLI_ENTRIES:
            con = duckdb.connect(str(db))
            genesis_sql.install(con)
            assert "Error:" in str(caught.value) and "Traceback" not in str(caught.value)
        elif isinstance(caught.value, duckdb.Error):
            assert "Error: The " in str(caught.value), payload  # a GenesisError raised inside the function
        assert snapshot(con) == before, payload
    assert con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]
    con.close()


def test_a_stored_query_is_checked_again_when_it_is_re_run(shop) -> None:
    """The dashboard re-runs the latest run's stored real query: a tampered one is refused, not run."""
    _, con = shop
    run_id = evaluate(con, "benefits", "SELECT * FROM benefits").run_id
    con.execute("UPDATE genesis.quality_runs SET real_sql = ? WHERE run_id = ?",
                ["SELECT * FROM benefits); DROP TABLE victim; --", run_id])
    stored = con.execute("SELECT real_sql FROM genesis.quality_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    before = snapshot(con)
    with pytest.raises(EvaluationError, match="The real query is not valid SQL"):
        evaluate(con, "benefits", stored)
    assert snapshot(con) == before


@pytest.mark.parametrize("text", ["SELECT * FROM t", "SELECT * FROM t;", "select * from t ;  -- done\n",
                                  "WITH a AS (SELECT 1 AS x) SELECT * FROM a", "FROM t", "VALUES (1), (2)",
                                  "SELECT * FROM t WHERE note = 'DROP TABLE x; --'"])
def test_one_read_only_select_is_accepted(text: str) -> None:
    statement = validate_query(text)
    assert not statement.endswith(";") and statement.lower().startswith(("select", "with", "from", "values"))


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT 1; SELECT 2", "got 2 statements (SELECT, SELECT)"),
    ("INSERT INTO t VALUES (1)", "got INSERT"),
    ("COPY t TO 'x.csv'", "got COPY"),
    ("ATTACH 'other.duckdb'", "got ATTACH"),
    ("INSTALL httpfs", "got LOAD"),
    ("LOAD httpfs", "got LOAD"),
    ("PRAGMA version", "got PRAGMA"),
    ("SET threads = 1", "got SET"),
    ("CALL pragma_version()", "got CALL"),
    ("EXPLAIN SELECT 1", "got EXPLAIN"),
    ("SELECT * FROM t WHERE", "is not valid SQL"),
    ("SELECT genesis_label('m', 'c', 1, 'x')", "genesis_label(), which writes"),
    ("SELECT * FROM t WHERE x IN (SELECT genesis_evaluate('m', 'SELECT 1'))", "genesis_evaluate(), which writes"),
    ("SELECT * FROM 's3://bucket/k.parquet'", "over the network"),
    ("SELECT * FROM read_parquet('https://example.com/x.parquet')", "reaches the network through read_parquet()"),
    ("", "must be SQL text"),
    ("SELECT " + "abs(" * 990 + "1" + ")" * 990, "nested too deeply"),
    ("SELECT * FROM (" * 500 + "SELECT 1" + ")" * 500, "nested too deeply"),
])
def test_anything_else_is_refused_with_what_would_be_right(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match="SELECT|SQL text|writes|network|nested") as caught:
        validate_query(text)
    assert message in str(caught.value)


@pytest.mark.parametrize("text", ["SELECT * FROM read_csv('x.csv')", "SELECT * FROM 'x.parquet'",
                                  "SELECT * FROM \"data.csv\"", "SELECT * FROM glob('*.csv')",
                                  "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')"])
def test_file_reads_only_where_the_caller_allows_them(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="file"):
        validate_query(text, allow_files=False)
    if "query(" not in text:
        assert validate_query(text, allow_files=True)


def test_the_sql_functions_refuse_file_reads_that_python_allows(shop, data_dir: Path) -> None:
    _, con = shop
    source = f"SELECT * FROM read_csv('{data_dir / 'economics.csv'}')"
    with pytest.raises(duckdb.Error, match="FitError: The training query may not read files"):
        con.execute(f"SELECT genesis_fit('econ', {_quoted(source)}, method := 'copula')").fetchall()
    assert genesis_sql.fit(con, "econ", source, method="copula").training_rows == 478


def test_the_entry_points_raise_their_own_error_class(shop) -> None:
    _, con = shop
    with pytest.raises(FitError, match="training query must be exactly one"):
        genesis_sql.fit(con, "w", "SELECT 1; SELECT 2")
    with pytest.raises(EvaluationError, match="real query must be exactly one"):
        evaluate(con, "benefits", "SELECT 1; SELECT 2")


def test_a_query_ending_in_a_comment_still_runs(shop) -> None:
    _, con = shop
    summary = genesis_sql.fit(con, "w", "SELECT * FROM benefits -- every row", method="copula")
    assert summary.training_rows == con.execute("SELECT count(*) FROM benefits").fetchall()[0][0]
