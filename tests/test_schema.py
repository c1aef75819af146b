"""Column kind detection on the real data sets, identifiers, overrides and unsupported column types."""
from __future__ import annotations

import re

import numpy as np
import pytest

import genesis_sql
from genesis_sql.errors import InvalidArgumentError, UnsupportedColumnTypeError
from genesis_sql.schema import KINDS, ColumnSpec, decimals_of, detect_schema
from tests.conftest import arrow_with_types, read_csv_sql


def detect(sql: str, column_types: dict[str, str] | None = None) -> dict[str, ColumnSpec]:
    table, types = arrow_with_types(sql)
    return {spec.name: spec for spec in detect_schema(table, types, column_types)}


@pytest.fixture(scope="module")
def movies() -> dict[str, ColumnSpec]:
    return detect(read_csv_sql("movies"))


@pytest.fixture(scope="module")
def benefits() -> dict[str, ColumnSpec]:
    return detect(read_csv_sql("Benefits"))


def test_the_vocabulary_is_the_designed_one():
    assert KINDS == ("numeric", "integer", "categorical", "boolean", "datetime", "id", "text")


def test_movies_titles_are_text_and_sparse_columns_are_nullable(movies):
    assert movies["title"].kind == "text"
    assert (movies["budget"].kind, movies["budget"].nullable) == ("integer", True)
    assert (movies["mpaa"].kind, movies["mpaa"].nullable) == ("categorical", True)
    assert (movies["year"].kind, movies["year"].nullable) == ("integer", False)
    assert movies["rating"].kind == "numeric"
    assert movies["Action"].kind == "categorical"  # a 0/1 flag: few distinct numbers are categories
    assert list(movies)[:3] == ["title", "year", "length"]  # the training column order is kept


def test_economics_date_is_a_datetime():
    economics = detect(read_csv_sql("economics"))
    assert (economics["date"].kind, economics["date"].sql_type) == ("datetime", "DATE")
    assert economics["pce"].kind == "numeric"
    assert economics["unemploy"].kind == "integer"


def test_benefits_state_is_an_integer_and_yes_no_columns_are_booleans(benefits):
    assert benefits["state"].kind == "integer"
    assert benefits["age"].kind == "integer"
    assert {name for name, spec in benefits.items() if spec.kind == "boolean"} == {
        "nwhite", "school12", "bluecol", "smsa", "married", "dkids", "dykids", "head", "ui"}
    assert benefits["joblost"].kind == "categorical" and benefits["sex"].kind == "categorical"
    assert benefits["yrdispl"].kind == "categorical"  # 10 distinct years
    assert not any(spec.nullable for spec in benefits.values())


def test_diamonds_kinds():
    diamonds = detect(read_csv_sql("diamonds"))
    assert {n: s.kind for n, s in diamonds.items()} == {
        "carat": "numeric", "cut": "categorical", "color": "categorical", "clarity": "categorical",
        "depth": "numeric", "table": "numeric", "price": "integer", "x": "numeric", "y": "numeric", "z": "numeric"}


def test_unique_identifier_columns_are_ids():
    kinds = detect(f"""SELECT row_number() OVER () + 1000 AS customer_id,
                              'C-' || lpad(CAST(row_number() OVER () AS VARCHAR), 6, '0') AS account,
                              uuid() AS token, (row_number() OVER ()) * 37 AS order_nr,
                              age, state FROM ({read_csv_sql('Benefits')})""")
    assert kinds["customer_id"].kind == "id"
    assert kinds["account"].kind == "id"
    assert kinds["token"].kind == "id"
    assert kinds["order_nr"].kind == "id"  # sparse, but named like an identifier
    assert kinds["age"].kind == "integer"


def test_ids_need_uniqueness_and_enough_rows():
    kinds = detect("SELECT i % 500 AS customer_id, i AS row_id, 'k' || i AS code FROM range(1000) t(i)")
    assert kinds["customer_id"].kind == "integer"  # repeats: not an identifier
    assert kinds["row_id"].kind == "id"


def test_unique_integers_are_ids_only_when_named_like_one():
    kinds = detect('SELECT 1871 + i AS year, i AS "Unnamed: 0", i AS rownames, 1000 + 7 * i AS pop '
                   "FROM range(100) t(i)")
    assert kinds["year"].kind == "integer" and kinds["pop"].kind == "integer"  # measurements, one per row
    assert kinds["Unnamed: 0"].kind == "id" and kinds["rownames"].kind == "id"  # row labels of exports
    few = detect("SELECT i AS row_id FROM range(10) t(i)")
    assert few["row_id"].kind == "categorical"


def test_overrides_replace_detection_case_insensitively(benefits):
    kinds = detect(read_csv_sql("Benefits"), {"STATE": "categorical", "age": "numeric", "ui": "categorical"})
    assert (kinds["state"].kind, kinds["age"].kind, kinds["ui"].kind) == ("categorical", "numeric", "categorical")
    assert {n: s for n, s in kinds.items() if n not in ("state", "age", "ui")} == {
        n: s for n, s in benefits.items() if n not in ("state", "age", "ui")}


def test_overrides_must_name_existing_columns_and_kinds():
    with pytest.raises(InvalidArgumentError, match=re.escape(
            "column_types names columns the training data does not have: ['zip']. Columns: ['date', 'pce', 'pop', ")):
        detect(read_csv_sql("economics"), {"zip": "categorical"})
    with pytest.raises(InvalidArgumentError, match=re.escape(
            "Unknown column kinds {'pce': 'float'}; use one of numeric, integer, categorical, boolean, datetime, "
            "id, text.")):
        detect(read_csv_sql("economics"), {"pce": "float"})


@pytest.mark.parametrize(("column", "kind", "needs"), [
    ("pce", "text", "a VARCHAR column"),
    ("pce", "id", "an integer or VARCHAR column"),
    ("pce", "datetime", "a DATE or TIMESTAMP column"),
    ("date", "numeric", "a number column"),
    ("date", "categorical", "a column that is not a date/time"),
])
def test_overrides_that_cannot_model_the_column_type_are_refused(column, kind, needs):
    table, types = arrow_with_types(read_csv_sql("economics"))
    with pytest.raises(InvalidArgumentError, match=re.escape(
            f"column_types cannot model {column!r} ({types[column]}) as {kind!r}: {kind} needs {needs}. ")):
        detect_schema(table, types, {column: kind})


def test_list_struct_and_map_columns_are_refused_by_name():
    sql = ("SELECT i AS n, [i, i + 1] AS tags, {'a': i} AS address, MAP {'k': i} AS props, 'x' AS s "
           "FROM range(30) t(i)")
    with pytest.raises(UnsupportedColumnTypeError, match=re.escape(
            "Cannot model columns tags (BIGINT[]), address (STRUCT(a BIGINT)), props (MAP(VARCHAR, BIGINT)): "
            "supported are ")) as info:
        detect(sql)
    assert "SELECT * EXCLUDE" in str(info.value)  # says what to do next


def test_fit_refuses_unsupported_columns_and_stores_nothing(con):
    con.execute("CREATE TABLE nested AS SELECT i AS n, [i] AS tags FROM range(30) t(i)")
    with pytest.raises(UnsupportedColumnTypeError, match=re.escape("Cannot model columns tags (BIGINT[])")):
        genesis_sql.fit(con, "nested", "SELECT * FROM nested")
    assert con.execute("SELECT count(*) FROM genesis.models").fetchall() == [(0,)]
    summary = genesis_sql.fit(con, "nested", "SELECT * EXCLUDE (tags) FROM nested")
    assert summary.columns == (("n", "integer"),)


def test_decimals_of_finds_the_precision_of_floats():
    assert decimals_of(np.array([0.23, 1.5, 2.0])) == 2
    assert decimals_of(np.array([1.0, 2.0, np.nan])) == 0
    assert decimals_of(np.array([np.pi])) is None
    # large values keep their decimals (money amounts, populations with fractions)
    assert decimals_of(np.array([12345.678, 99.5])) == 3
    assert decimals_of(np.array([1234567.25, 2345678.75])) == 2
