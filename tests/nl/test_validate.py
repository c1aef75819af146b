"""validate_sql (SQL written by NL-to-SQL tools), the hardened connection, and injection attempts."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import GenesisError, InfeasibleConditionError, ModelNotFoundError, UnknownColumnError
from genesis_sql.nl.mcp_server import GenesisTools
from genesis_sql.nl.validate import UnsafeQueryError, open_hardened, validate_sql

# Statements and queries an NL-to-SQL tool could be talked into writing.
INJECTIONS = [
    "DROP TABLE benefits",
    "DELETE FROM genesis.models",
    "INSERT INTO genesis.labels VALUES ('workers', 'state', '1', 'x', now())",
    "UPDATE genesis.models SET method = 'x'",
    "CREATE TABLE stolen AS SELECT * FROM benefits",
    "ALTER TABLE benefits ADD COLUMN x INT",
    "COPY benefits TO '/tmp/genesis_stolen.csv'",
    "COPY (SELECT * FROM genesis_generate('workers', 10)) TO '/tmp/genesis_out.csv'",
    "ATTACH '/tmp/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA database_list",
    "SET enable_external_access = true",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM benefits",
    "SELECT * FROM genesis.models",
    "SELECT * FROM genesis_generate('workers', 10); DROP TABLE benefits",
    "SELECT * FROM genesis_generate('workers', 10) -- WHERE age > 50",
    "SELECT * FROM genesis_generate('workers', 10) /* hidden */ WHERE age > 50",
    "SELECT * FROM genesis_generate('workers', 10) WHERE age IN (SELECT age FROM benefits)",
    "SELECT * FROM genesis_generate('workers', 10) WHERE EXISTS (SELECT 1 FROM benefits)",
    "SELECT * FROM genesis_generate('workers', 10) UNION ALL SELECT * FROM benefits",
    "SELECT * FROM genesis_generate('workers', 10) g JOIN benefits b ON g.age = b.age",
    "WITH x AS (SELECT * FROM benefits) SELECT * FROM genesis_generate('workers', 10)",
    "SELECT read_csv('/etc/passwd') FROM genesis_generate('workers', 10)",
    "SELECT getenv('HOME') AS h FROM genesis_generate('workers', 10)",
    "SELECT * FROM genesis_generate('workers', 10) WHERE age > 50 AND current_setting('threads') = 1",
    "SELECT * FROM genesis_generate('workers', 10, condition := 'age > (SELECT 1)')",
    "SELECT * FROM genesis_generate((SELECT 'workers'), 10)",
    "SELECT * FROM genesis_generate('workers', (SELECT 10))",
    "SELECT * FROM genesis_generate('no_such_model', 10)",
    "SELECT * FROM genesis_generate('workers', 10) WHERE no_such_column = 1",
    "SELECT * FROM genesis_generate('workers', 10) WHERE other.age > 1",
    "SELECT * FROM genesis_generate('workers', 10000000)",
    "SELECT * FROM query('SELECT * FROM benefits')",
    "SELECT * FROM genesis_generate('workers', 10) WHERE age > ?",
    "EXPORT DATABASE '/tmp/genesis_export'",
    "CALL pragma_version()",
    "SELECT * FROM genesis_generate('x''); DROP TABLE benefits; --', 10)",
]
# Requests in words that carry SQL instead.
ASK_INJECTIONS = [
    "100 workers'; DROP TABLE benefits; --",
    "100 workers where age > 50 -- and drop everything",
    "select * from benefits",
    "100 workers from read_csv('/etc/passwd')",
    "ATTACH 'other.duckdb' and give me workers",
    "100 workers /* comment */ over 50",
    "100 workers' OR 1=1",
    "drop table benefits",
    "100 workers UNION SELECT * FROM benefits",
    "COPY benefits TO 'x.csv'",
    "set threads = 1",
    "PRAGMA version",
]


@pytest.fixture
def hardened(nl_db: Path):
    con = open_hardened(str(nl_db))
    yield con
    con.close()


def test_a_valid_query_comes_back_canonical(hardened: duckdb.DuckDBPyConnection):
    query = validate_sql(hardened, "select g.age, sex from genesis_generate('workers', 100, seed := 3) g "
                                   "where g.age > 50 and state = 93 limit 5")
    assert query.sql == ("SELECT \"age\", \"sex\" FROM genesis_generate('workers', 100, seed := 3) "
                         "WHERE (\"age\" > 50) AND (\"state\" = 93) LIMIT 5")
    assert (query.model, query.n, query.seed, query.rows) == ("workers", 100, 3, 5)
    rows = genesis_sql.GenesisConnection(hardened).sql(query.sql).fetchall()
    assert len(rows) == 5 and all(age > 50 for age, _ in rows)


def test_values_outside_the_support_say_what_is_closest(hardened: duckdb.DuckDBPyConnection):
    with pytest.raises(InfeasibleConditionError, match=re.escape("Closest: 'female'")):
        validate_sql(hardened, "SELECT * FROM genesis_generate('workers', 10) WHERE sex = 'femal'")
    with pytest.raises(UnknownColumnError, match=re.escape("Did you mean 'age'?")):
        validate_sql(hardened, "SELECT * FROM genesis_generate('workers', 10) WHERE agee > 5")
    with pytest.raises(ModelNotFoundError, match=re.escape("Did you mean 'workers'?")):
        validate_sql(hardened, "SELECT * FROM genesis_generate('workerz', 10)")


def test_the_row_cap_holds(hardened: duckdb.DuckDBPyConnection):
    with pytest.raises(UnsafeQueryError, match="the cap is 50"):
        validate_sql(hardened, "SELECT * FROM genesis_generate('workers', 51)", max_rows=50)
    assert validate_sql(hardened, "SELECT * FROM genesis_generate('workers', 500) LIMIT 50", max_rows=50).rows == 50


@pytest.mark.parametrize("sql", INJECTIONS)
def test_injections_through_the_validator_are_genesis_errors(hardened: duckdb.DuckDBPyConnection, sql: str):
    with pytest.raises(GenesisError):
        validate_sql(hardened, sql)


@pytest.mark.parametrize("request_text", ASK_INJECTIONS)
def test_injections_through_ask_are_genesis_errors(nl_con: duckdb.DuckDBPyConnection, request_text: str):
    with pytest.raises(UnsafeQueryError, match="contains SQL"):
        genesis_sql.ask(nl_con, request_text)
    assert nl_con.execute("SELECT count(*) FROM benefits").fetchall()[0][0] > 0


def test_injections_through_mcp_generate_are_genesis_errors(nl_db: Path):
    tools = GenesisTools(str(nl_db), max_rows=1000)
    try:
        for sql in INJECTIONS:
            with pytest.raises(GenesisError):
                tools.generate(sql=sql)
        for conditions in ([{"column": "age; DROP TABLE benefits", "op": "=", "value": 1}],
                           [{"column": "age", "op": "> 1 OR 1=1 --", "value": 1}],
                           [{"column": "sex", "op": "=", "value": "x' OR '1'='1"}]):
            with pytest.raises(GenesisError):
                tools.generate(model="workers", n=5, conditions=conditions)
        assert tools.con.execute("SELECT count(*) FROM benefits").fetchall()[0][0] > 0
    finally:
        tools.close()


def test_the_hardened_connection_reads_no_files_and_keeps_its_settings(hardened: duckdb.DuckDBPyConnection):
    for statement in ("SELECT * FROM read_csv('/etc/passwd')", "SET enable_external_access = true",
                      "ATTACH '/tmp/genesis_other.duckdb'", "SET lock_configuration = false"):
        with pytest.raises(duckdb.Error):
            hardened.execute(statement).fetchall()
    assert hardened.execute("SELECT count(*) FROM genesis_generate('workers', 10)").fetchall() == [(10,)]
