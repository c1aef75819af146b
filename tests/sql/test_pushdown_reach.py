"""Pushdown reach (issue 12 item 5, issue 11 item 9): genesis_query in any connection, views over generators,
bound parameters, and the user's text left as written.

Every form is checked the same way: n rows that all match (pushed), where plain SQL would filter to fewer,
and ``explain`` saying what went where.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.connection import GenesisConnection

N = 1000
COND = "age > 50 AND state = 93"  # about 1 in 9 Benefits rows: plain SQL keeps about 110 of 1000


def matching(rows: list[tuple]) -> int:
    return sum(1 for age, state in rows if age > 50 and state == 93)


@pytest.fixture(scope="module")
def shop(models_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the fitted models (benefits: age, state ...), a plain installed connection and a pushing one."""
    import shutil

    path = tmp_path_factory.mktemp("reach") / "models.duckdb"
    shutil.copyfile(models_template, path)
    plain = duckdb.connect(str(path))
    genesis_sql.install(plain)
    plain.execute(f"CREATE VIEW workers AS SELECT * FROM genesis_generate('benefits', {N}, seed := 3)")
    plain.execute("CREATE VIEW older AS SELECT age, state FROM workers WHERE age > 30")
    yield plain, GenesisConnection(plain.cursor())
    plain.close()


def inner(seed: int = 5) -> str:
    return f"SELECT age, state FROM genesis_generate(''benefits'', {N}, seed := {seed}) WHERE {COND}"


# --- (a) genesis_query, a SQL entry any connection can use ---

def test_genesis_query_pushes_in_a_plain_connection(shop) -> None:
    plain, _ = shop
    rows = plain.execute(f"SELECT * FROM genesis_query('{inner()}')").fetchall()
    assert len(rows) == N and matching(rows) == N
    filtered = plain.execute(
        f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 5) WHERE {COND}").fetchall()
    assert len(filtered) < N / 2


def test_genesis_query_inside_create_table_as_a_view_and_a_cte(shop) -> None:
    plain, _ = shop
    plain.execute(f"CREATE OR REPLACE TABLE q_table AS SELECT * FROM genesis_query('{inner(6)}')")
    plain.execute(f"CREATE OR REPLACE VIEW q_view AS SELECT * FROM genesis_query('{inner(7)}')")
    cte = plain.execute(f"WITH c AS (SELECT * FROM genesis_query('{inner(8)}')) SELECT * FROM c").fetchall()
    for rows in (plain.execute("SELECT * FROM q_table").fetchall(), plain.execute("SELECT * FROM q_view").fetchall(),
                 cte):
        assert len(rows) == N and matching(rows) == N
    assert plain.execute("SELECT count(*) FROM q_view").fetchall() == [(N,)]


def test_genesis_query_is_validated_at_bind_time(shop) -> None:
    plain, _ = shop
    with pytest.raises(duckdb.Error, match="InvalidArgumentError: The genesis_query text must be exactly one"):
        plain.execute("SELECT count(*) FROM genesis_query('SELECT 1; SELECT 2')").fetchall()
    with pytest.raises(duckdb.Error, match="may not read files"):
        plain.execute("SELECT * FROM genesis_query('SELECT * FROM read_csv(''x.csv'')')").fetchall()


def test_explain_of_genesis_query_shows_the_rewrite_done_at_bind_time(shop) -> None:
    _, gcon = shop
    text = gcon.explain(f"SELECT * FROM genesis_query('{inner()}')")
    assert "pushes at bind time" in text
    assert "condition := '(\"age\" > 50) AND (\"state\" = 93)'" in text
    assert "benefits (as benefits): age > 50" in text
    for wrapper in ("CREATE TABLE t AS SELECT * FROM genesis_query('{}')",
                    "CREATE VIEW v AS SELECT * FROM genesis_query('{}')",
                    "WITH c AS (SELECT * FROM genesis_query('{}')) SELECT count(*) FROM c"):
        assert "condition := '(\"age\" > 50) AND (\"state\" = 93)'" in gcon.explain(wrapper.format(inner()))


# --- (b) views over genesis_generate, through connect() ---

def test_a_where_on_a_view_over_a_generator_is_pushed(shop) -> None:
    _, gcon = shop
    rows = gcon.execute(f"SELECT age, state FROM workers WHERE {COND}").fetchall()
    assert len(rows) == N and matching(rows) == N
    text = gcon.explain(f"SELECT age, state FROM workers WHERE {COND}")
    assert "views over genesis_generate inlined: workers" in text
    assert "benefits (as workers): state = 93" in text


def test_a_view_over_a_view_and_an_aliased_view_are_pushed(shop) -> None:
    _, gcon = shop
    rows = gcon.execute(f"SELECT o.age, o.state FROM older AS o WHERE o.age > 50 AND o.state = 93").fetchall()
    assert len(rows) == N and matching(rows) == N
    assert "inlined: older" in gcon.explain("SELECT * FROM older AS o WHERE o.age > 50")


def test_a_view_with_a_limit_keeps_plain_meaning_and_says_why(shop) -> None:
    plain, gcon = shop
    plain.execute("CREATE OR REPLACE VIEW first_ten AS "
                  "SELECT * FROM genesis_generate('benefits', 10, seed := 1) LIMIT 10")
    assert "LIMIT / OFFSET in between" in gcon.explain("SELECT * FROM first_ten WHERE age > 50")
    assert len(gcon.execute("SELECT * FROM first_ten WHERE age > 50").fetchall()) < 10


def test_views_without_a_generator_and_tables_are_untouched(shop) -> None:
    plain, gcon = shop
    plain.execute("CREATE OR REPLACE VIEW plain_view AS SELECT range AS age FROM range(5)")
    query = "SELECT * FROM plain_view WHERE age > 2"
    assert gcon.rewrite(query).sql == query
    assert gcon.execute(query).fetchall() == [(3,), (4,)]


# --- (c) bound parameters, pushed with their values ---

@pytest.mark.parametrize(("query", "parameters"), [
    (f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE age > ? AND state = ?", [50, 93]),
    (f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE age > $1 AND state = $2", [50, 93]),
    (f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE state = $2 AND age > $1", [50, 93]),
    (f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE age > $a AND state = $s",
     {"a": 50, "s": 93}),
    ("SELECT age, state FROM workers WHERE age > ? AND state = ?", (50, 93)),
], ids=["?", "$n", "$n out of order", "$name", "view and ?"])
def test_bound_parameters_are_pushed_with_their_values(shop, query: str, parameters) -> None:
    _, gcon = shop
    rows = gcon.execute(query, parameters).fetchall()
    assert len(rows) == N and matching(rows) == N
    text = gcon.explain(query, parameters)
    assert "[bound: state = 93]" in text and "[bound: age > 50]" in text
    assert "WHERE" in gcon.rewrite(query, parameters).sql.split("condition :=")[-1]  # the user's WHERE stays


def test_relations_from_sql_push_their_params_too(shop) -> None:
    _, gcon = shop
    rows = gcon.sql(f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE age > ? AND state = ?",
                    params=[50, 93]).fetchall()
    assert len(rows) == N and matching(rows) == N


def test_psycopg_style_parameters_arrive_as_numbered_ones(shop) -> None:
    """psycopg sends ``%s`` placeholders to a Postgres-wire server as ``$1, $2`` with the values apart."""
    psycopg_queries = pytest.importorskip("psycopg._queries")
    import psycopg.adapt

    _, gcon = shop
    query = psycopg_queries.PostgresQuery(psycopg.adapt.Transformer())
    query.convert(f"SELECT age, state FROM genesis_generate('benefits', {N}, seed := 4) WHERE age > %s AND state = %s",
                  (50, 93))
    sent = query.query.decode()
    assert "$1" in sent and "$2" in sent
    rows = gcon.execute(sent, [50, 93]).fetchall()
    assert len(rows) == N and matching(rows) == N


def test_a_parameter_value_with_no_exact_literal_stays_a_filter(shop) -> None:
    _, gcon = shop
    text = gcon.explain("SELECT * FROM genesis_generate('benefits', 10) WHERE age > ?", [float("nan")])
    assert "has no exact SQL literal" in text


def test_a_string_parameter_is_a_literal_never_spliced_text(shop) -> None:
    _, gcon = shop
    hostile = "x') OR true OR ('"
    plan = gcon.rewrite("SELECT * FROM genesis_generate('benefits', 10) WHERE lower(CAST(state AS VARCHAR)) = ?",
                        [hostile])
    assert not plan.pushed or "''x'''') OR true OR (''''''" in plan.sql


# --- issue 11 item 9: only the generator calls change ---

def test_between_symmetric_fails_through_connect_as_in_plain_duckdb(shop) -> None:
    plain, gcon = shop
    query = "SELECT * FROM genesis_generate('benefits', 10) WHERE age BETWEEN SYMMETRIC 60 AND 30"
    with pytest.raises(duckdb.ParserException):
        plain.execute(query)
    with pytest.raises(duckdb.ParserException):
        gcon.execute(query)
    assert gcon.rewrite(query).sql == query


def test_only_the_generator_call_changes(shop) -> None:
    _, gcon = shop
    query = ("select  age  from genesis_generate('benefits', 10, seed := 1) as g  -- generated\n"
             "where g.age > 50   /* pushed */ and g.age::VARCHAR like '5%'")
    out = gcon.rewrite(query).sql
    assert out == query.replace("seed := 1)", "seed := 1, condition := '(\"age\" > 50) AND "
                                              "(CAST(\"age\" AS TEXT) LIKE ''5%'')')")


def test_text_nested_beyond_the_parsers_recursion_goes_to_duckdb_as_written(shop) -> None:
    _, gcon = shop
    query = "SELECT count(*) FROM genesis_generate('benefits', 10) WHERE age > " + "abs(" * 990 + "1" + ")" * 990
    assert gcon.rewrite(query).sql == query
    assert gcon.execute(query).fetchall()[0][0] <= 10
