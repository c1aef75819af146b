"""Condition, ConditionSet and ConditionBuilder: one canonical form, JSON round trips, SQL semantics."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.conditions import Condition, ConditionBuilder, ConditionSet, bind, parse_condition
from genesis_sql.conditions.condition import _comparison_mask, _duckdb_mask
from genesis_sql.errors import ConditionError, UnknownColumnError
from genesis_sql.schema import ColumnSpec

COLUMNS = [
    ColumnSpec("age", "integer", "BIGINT", False),
    ColumnSpec("state", "categorical", "VARCHAR", True),
    ColumnSpec("income", "numeric", "DOUBLE", True),
    ColumnSpec("joined", "datetime", "DATE", False),
    ColumnSpec("member", "boolean", "BOOLEAN", False),
]


def test_sql_and_builder_give_the_same_canonical_text() -> None:
    from_sql = parse_condition("state IN ('NY', 'CA') AND 50 <= age", COLUMNS)
    built = bind(ConditionBuilder().where("age").gte(50).where("state").isin(["CA", "NY"]).build(), COLUMNS)
    assert from_sql.to_sql() == built.to_sql()
    assert from_sql == built


def test_canonical_form_normalises_order_literals_and_case() -> None:
    a = parse_condition("income > 2.0 AND AGE < 30", COLUMNS)
    b = parse_condition("age < 30 AND 2 < income", COLUMNS)
    assert a.to_sql() == b.to_sql() == '("age" < 30) AND ("income" > 2)'


def test_builder_covers_the_grammar() -> None:
    cs = (ConditionBuilder().where("age").between(20, 30).where("state").notin(["TX"]).where("income").is_not_null()
          .where("state").like("C%").sql("age * 2 > income OR member").build())
    bound = bind(cs, COLUMNS)
    assert {c.operator for c in bound.conditions} == {"between", "not_in", "is_not_null", "like"}
    assert bound.expressions == ('"age" * 2 > "income" OR "member"',)


def test_round_trip_through_dict() -> None:
    cs = parse_condition("joined >= '2001-02-03' AND state NOT IN ('a', 'b') AND lower(state) = 'x'", COLUMNS)
    again = ConditionSet.from_dict(cs.to_dict())
    assert again == cs
    assert Condition.from_dict(cs.conditions[0].to_dict()) == cs.conditions[0]
    assert any(isinstance(c.value, dt.date) for c in again.conditions)


def test_values_are_checked_against_column_types() -> None:
    with pytest.raises(ConditionError, match=re.escape("Column 'age' is integer: compare it with a number, not 'old'.")):
        parse_condition("age > 'old'", COLUMNS)
    with pytest.raises(ConditionError, match="compare it with true or false"):
        parse_condition("member = 3", COLUMNS)
    with pytest.raises(ConditionError, match="ISO date"):
        parse_condition("joined > 'yesterday'", COLUMNS)
    with pytest.raises(UnknownColumnError, match=re.escape("Did you mean 'state'?")):
        bind(ConditionBuilder().where("stat").eq("CA").build(), COLUMNS)


TABLE = pa.table({
    "age": [10, 60, None, 70],
    "state": ["CA", None, "NY", "ca"],
    "income": [1.0, None, 3.0, 4.0],
    "joined": pa.array([dt.date(2000, 1, 1)] * 4),
    "member": [True, False, True, None],
})


@pytest.mark.parametrize(("condition", "expected"), [
    ("age > 50", [False, True, False, True]),
    ("age <> 10", [False, True, False, True]),
    ("state NOT IN ('CA')", [False, False, True, True]),
    ("state IS NULL", [False, True, False, False]),
    ("state ILIKE 'c%'", [True, False, False, True]),
    ("state NOT LIKE 'C%'", [False, False, True, True]),
    ("age BETWEEN 10 AND 60", [True, True, False, False]),
    ("income IS NOT NULL AND member", [True, False, True, False]),
    ("age > 50 OR income < 2", [True, True, False, True]),
    ("NOT (age > 50)", [True, False, False, False]),
])
def test_mask_has_sql_null_semantics(condition: str, expected: list[bool]) -> None:
    """Arrow-evaluated atoms and DuckDB-evaluated expressions agree with DuckDB's WHERE."""
    cs = parse_condition(condition, COLUMNS)
    assert cs.mask(TABLE).tolist() == expected
    assert cs.apply(TABLE).num_rows == sum(expected)


@pytest.mark.parametrize("condition", [
    '"x" > "y" + 0.3', '"x" >= "y" + 0.3', '"x" = "y" + 0.3', '"x" != "y" + 0.3', '"x" - "y" BETWEEN 0.1 AND 0.3',
    '20 * "x" * 1000 - 30000 < "y" / 3', '-("x" - 2.5) <= -"y"', '"x" > "y" + 1e-3',
])
def test_comparisons_of_double_arithmetic_are_decided_as_duckdb_decides(condition: str) -> None:
    """Arrow evaluates these conjuncts in place of DuckDB: the same answer on every row, including rows where
    the two sides are equal to the last bit, and NULLs. NaN (which DuckDB orders above numbers) and integer
    columns stay DuckDB's to decide."""
    rng = np.random.default_rng(0)
    y = np.round(rng.normal(size=4000), 2)
    x = np.where(np.arange(4000) % 3 == 0, y + 0.3, np.round(rng.normal(size=4000), 2))  # ties, in double
    nulls = np.arange(4000) % 7 == 0
    table = pa.table({"x": pa.array(x, mask=nulls), "y": y, "n": np.arange(4000), "nan": np.full(4000, np.nan)})
    columns = [ColumnSpec("x", "numeric", "DOUBLE", True), ColumnSpec("y", "numeric", "DOUBLE", False),
               ColumnSpec("n", "integer", "BIGINT", False), ColumnSpec("nan", "numeric", "DOUBLE", False)]
    cs = parse_condition(condition, columns)
    assert _comparison_mask(cs.expressions[0], table) is not None
    assert cs.mask(table).tolist() == _duckdb_mask(list(cs.expressions), table).tolist()
    for other in (condition.replace('"y"', '"n"'), condition.replace('"y"', '"nan"')):
        assert _comparison_mask(parse_condition(other, columns).expressions[0], table) is None


def test_generate_with_a_builder_equals_generate_with_sql(models_con) -> None:
    cs = ConditionBuilder().where("age").gte(50).where("state").isin([93, 21]).build()
    built = genesis_sql.generate(models_con, "benefits", 300, seed=5, condition=cs)
    written = genesis_sql.generate(models_con, "benefits", 300, seed=5, condition="state IN (21, 93) AND age >= 50")
    assert built.equals(written)
    assert all(a >= 50 for a in built.column("age").to_pylist())
    assert set(built.column("state").to_pylist()) <= {21, 93}
