"""The pushdown rewriter, rule by rule through its fixture file, and run for real in DuckDB."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.sql.pushdown import rewrite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql" / "pushdown.sql"


def read_cases(path: Path) -> list[tuple[str, str, str]]:
    """(title, input SQL, expected SQL) triples from a `# title:` / input `;` / expected `;` file."""
    cases = []
    for block in path.read_text().split("# title:")[1:]:
        title, _, body = block.partition("\n")
        statements = [s.strip() for s in body.split(";\n") if s.strip()]
        assert len(statements) == 2, f"case {title!r} needs an input and an expected statement"
        cases.append((title.strip(), statements[0], statements[1].rstrip(";")))
    return cases


CASES = read_cases(FIXTURES)


@pytest.fixture(scope="module")
def gcon(tmp_path_factory: pytest.TempPathFactory):
    """A real catalog with a 'customers' model (age, state, income) and a plain table 'people'."""
    path = tmp_path_factory.mktemp("pushdown") / "shop.duckdb"
    connection = genesis_sql.connect(str(path))
    raw = connection.duckdb_connection
    raw.execute("""CREATE TABLE raw_customers AS
                   SELECT 18 + (i * 7919) % 70 AS age, ['CA', 'NY', 'TX', 'WA'][1 + i % 4] AS state,
                          (i * 104729) % 3000 AS income
                   FROM range(4000) t(i)""")
    raw.execute("CREATE TABLE people AS SELECT range AS age, 'x' || range AS name FROM range(100)")
    genesis_sql.fit(raw, "customers", "SELECT * FROM raw_customers")
    yield connection
    connection.close()


@pytest.mark.parametrize(("title", "query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rewrite_fixture(gcon, title: str, query: str, expected: str) -> None:
    assert gcon.rewrite(query).sql == expected


def test_no_generator_is_byte_identical(gcon) -> None:
    query = "  SELECT  1 AS x -- genesis_generate is mentioned only here\n"
    assert gcon.rewrite(query).sql == query


FULLY_PUSHED = [c for c in CASES if c[1].count("genesis_generate") == 1 and "condition :=" in c[2]
                and "people" not in c[1] and "?" not in c[1]]


@pytest.mark.parametrize(("title", "query", "expected"), FULLY_PUSHED, ids=[c[0] for c in FULLY_PUSHED])
def test_fully_pushed_queries_return_n_rows(gcon, title: str, query: str, expected: str) -> None:
    """Where every conjunct reached the generator, DuckDB returns exactly n rows; plain SQL filters fewer."""
    n = int(re.search(r"genesis_generate\('customers', (\d+)", query).group(1))
    n_big = n * 40
    query, expected = (q.replace(f"'customers', {n}", f"'customers', {n_big}") for q in (query, expected))
    assert not gcon.rewrite(query).skipped
    assert len(gcon.sql(query).fetchall()) == n_big
    assert len(gcon.duckdb_connection.sql(query).fetchall()) < n_big


def test_pushed_query_returns_n_matching_rows(gcon) -> None:
    df = gcon.sql("SELECT * FROM genesis_generate('customers', 500, seed := 4) "
                  "WHERE age > 60 AND state = 'WA'").df()
    assert len(df) == 500
    assert ((df.age > 60) & (df.state == "WA")).all()


def test_plain_connection_keeps_plain_where_meaning(gcon) -> None:
    plain = gcon.duckdb_connection.sql("SELECT count(*) FROM genesis_generate('customers', 500, seed := 4) "
                                       "WHERE age > 60 AND state = 'WA'").fetchall()[0][0]
    assert 0 < plain < 500


def test_explain_lists_pushed_and_not_pushed(gcon) -> None:
    text = gcon.explain("SELECT * FROM genesis_generate('customers', 10) AS g LEFT JOIN people AS p "
                        "ON g.age = p.age WHERE g.age > 20 AND p.name = 'x' AND random() < 0.5")
    assert "genesis_generate('customers', 10, condition := '(\"age\" > 20)') AS g LEFT JOIN" in text
    assert re.search(r"customers \(as g\): g\.age > 20", text)
    assert "p.name = 'x': does not reference a generator" in text
    assert "RANDOM() < 0.5: references no generator column" in text


def test_explain_of_a_blocked_query_says_why(gcon) -> None:
    text = gcon.explain("SELECT * FROM (SELECT * FROM genesis_generate('customers', 10) LIMIT 5) AS s WHERE age > 50")
    assert "-- SQL (unchanged)" in text
    assert "age > 50: LIMIT / OFFSET in between" in text


def test_a_parameter_without_its_value_stays_a_filter(gcon) -> None:
    text = gcon.explain("SELECT count(*) FROM genesis_generate('customers', 300, seed := 1) WHERE age > ?")
    assert "age > $1: prepared-statement parameter with no value given" in text  # ? numbered as DuckDB does


def test_cursor_and_context_manager_keep_pushdown(tmp_path: Path) -> None:
    with genesis_sql.connect(str(tmp_path / "c.duckdb")) as connection:
        raw = connection.duckdb_connection
        raw.execute("CREATE TABLE t AS SELECT range % 10 AS a, range % 3 AS b FROM range(1000)")
        genesis_sql.fit(raw, "t", "SELECT * FROM t")
        cursor = connection.cursor()
        assert cursor.sql("SELECT count(*) FROM genesis_generate('t', 200) WHERE a = 9").fetchall() == [(200,)]
        assert isinstance(connection.duckdb_connection, duckdb.DuckDBPyConnection)


def test_pushdown_does_not_hide_bad_input(gcon) -> None:
    with pytest.raises(duckdb.Error, match="InfeasibleConditionError"):
        gcon.sql("SELECT * FROM genesis_generate('customers', 10) WHERE age > 500").fetchall()


def test_rewrite_without_catalog_leaves_unknown_models() -> None:
    result = rewrite("SELECT * FROM genesis_generate('m', 3) WHERE x > 1", lambda ref: None)
    assert not result.changed and result.sql == "SELECT * FROM genesis_generate('m', 3) WHERE x > 1"
