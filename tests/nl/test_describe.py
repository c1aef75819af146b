"""genesis_describe, genesis_label, labels and column notes carried at fit and kept across refits."""
from __future__ import annotations

import re

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import GenesisError, InvalidArgumentError, ModelNotFoundError, UnknownColumnError
from genesis_sql.nl.describe import describe_model
from tests.conftest import read_csv_sql


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A fresh database with a small people table (with column comments) and a state-name table."""
    con = duckdb.connect()
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')} LIMIT 1500")
    con.execute("COMMENT ON COLUMN benefits.state IS 'state of residence (CPS code)'")
    con.execute("COMMENT ON COLUMN benefits.ui IS 'applied for unemployment insurance'")
    con.execute("CREATE TABLE state_names AS SELECT * FROM (VALUES (74, 'Texas'), (21, 'New York')) AS t(code, name)")
    yield con
    con.close()


def test_migration_005_adds_the_label_and_note_tables(con: duckdb.DuckDBPyConnection):
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'genesis'").fetchall()}
    assert {"labels", "column_notes"} <= tables
    assert con.execute("SELECT name FROM genesis.schema_migrations WHERE version = 5").fetchall() == [("labels",)]


def test_genesis_describe_has_one_row_per_column_with_ranges_values_and_notes(con: duckdb.DuckDBPyConnection):
    genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula")
    rows = con.execute("SELECT name, sql_type, kind, null_share, min, max, values, other_values, description "
                       "FROM genesis_describe('workers')").fetchall()
    by_name = {r[0]: r for r in rows}
    assert len(rows) == 18 and list(by_name) == [c for c in con.sql("SELECT * FROM benefits").columns]
    age = by_name["age"]
    real_min, real_max = con.execute("SELECT min(age), max(age) FROM benefits").fetchall()[0]
    assert (age[2], age[4], age[5]) == ("integer", str(real_min), str(real_max))
    sex = by_name["sex"]
    shares = {v["value"]: v["share"] for v in sex[6]}
    real = dict(con.execute("SELECT sex, count(*) / sum(count(*)) OVER () FROM benefits GROUP BY sex").fetchall())
    assert shares == pytest.approx(real)
    assert by_name["married"][6][0]["value"] in ("true", "false")
    assert by_name["state"][8] == "state of residence (CPS code)"
    assert by_name["ui"][8] == "applied for unemployment insurance"
    assert con.execute("SELECT count(*) FROM genesis_describe('workers')").fetchall() == [(18,)]


def test_genesis_label_is_typed_by_the_column_and_read_by_describe(con: duckdb.DuckDBPyConnection):
    genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula")
    assert "California" in con.execute("SELECT genesis_label('workers', 'state', 93, 'California')").fetchall()[0][0]
    con.execute("SELECT genesis_label('workers', 'state', '74', 'Texas')").fetchall()
    labels = describe_model(con, "workers").column("state").labels
    assert labels == {93: "California", 74: "Texas"}
    row = con.execute("SELECT labels FROM genesis_describe('workers') WHERE name = 'state'").fetchall()[0][0]
    assert {"value": "93", "label": "California"} in row


def test_labels_from_a_mapping_query_at_fit_and_kept_across_refits(con: duckdb.DuckDBPyConnection):
    con.execute("SELECT genesis_fit('workers', 'SELECT * FROM benefits', method := 'copula', "
                "options := '{\"labels\": {\"state\": \"SELECT code, name FROM state_names\"}}')").fetchall()
    con.execute("SELECT genesis_label('workers', 'state', 93, 'California')").fetchall()
    genesis_sql.fit(con, "workers", "SELECT * FROM benefits WHERE age > 25", method="copula")
    description = describe_model(con, "workers")
    assert description.version == 2
    assert description.column("state").labels == {74: "Texas", 21: "New York", 93: "California"}
    assert description.column("state").description == "state of residence (CPS code)"


def test_comments_follow_renamed_columns_of_a_one_table_query(con: duckdb.DuckDBPyConnection):
    genesis_sql.fit(con, "w", "SELECT state AS home, age FROM benefits WHERE age > 30", method="copula")
    assert describe_model(con, "w").column("home").description == "state of residence (CPS code)"
    genesis_sql.fit(con, "j", "SELECT b.state FROM benefits b JOIN state_names s ON b.state = s.code", method="copula")
    assert describe_model(con, "j").column("state").description is None


@pytest.mark.parametrize("call, error, message", [
    ("SELECT genesis_label('workers', 'no_such', 1, 'x')", UnknownColumnError, "has no column 'no_such'"),
    ("SELECT genesis_label('workers', 'state', 'abc', 'x')", InvalidArgumentError, "must be one"),
    ("SELECT genesis_label('workers', 'state', 93, '')", InvalidArgumentError, "non-empty text"),
    ("SELECT genesis_label('nobody', 'state', 93, 'x')", ModelNotFoundError, "Unknown model 'nobody'"),
    ("SELECT * FROM genesis_describe('nobody')", ModelNotFoundError, "Unknown model 'nobody'"),
])
def test_bad_label_and_describe_calls_are_genesis_errors(con: duckdb.DuckDBPyConnection, call: str, error: type,
                                                         message: str):
    genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula")
    with pytest.raises(duckdb.Error, match=f"{error.__name__}: .*{re.escape(message)}"):
        con.execute(call).fetchall()
    assert con.execute("SELECT count(*) FROM genesis.labels").fetchall() == [(0,)]


@pytest.mark.parametrize("labels, message", [
    ({"state": "DROP TABLE state_names"}, "exactly one read-only SELECT"),
    ({"state": "SELECT 1; DROP TABLE state_names"}, "exactly one read-only SELECT"),
    ({"state": "SELECT code FROM state_names"}, "two columns"),
    ({"state": "SELECT * FROM missing_table"}, "failed"),
    ({"nope": "SELECT code, name FROM state_names"}, "no column 'nope'"),
    ("state", "must map columns"),
])
def test_a_bad_mapping_query_fails_the_fit_and_stores_nothing(con: duckdb.DuckDBPyConnection, labels: object,
                                                              message: str):
    with pytest.raises(GenesisError, match=re.escape(message)):
        genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula", labels=labels)
    assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM state_names").fetchall() == [(2,)]
