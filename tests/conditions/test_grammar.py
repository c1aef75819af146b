"""The condition grammar: parsed with sqlglot into one canonical form; anything outside it is refused."""
from __future__ import annotations

import re

import pytest

from genesis_sql.conditions import parse_condition
from genesis_sql.errors import ConditionSyntaxError, GenesisError, UnknownColumnError
from genesis_sql.schema import ColumnSpec

COLUMNS = [ColumnSpec("carat", "numeric", "DOUBLE", False), ColumnSpec("cut", "categorical", "VARCHAR", False),
           ColumnSpec("price", "integer", "BIGINT", False), ColumnSpec("depth", "numeric", "DOUBLE", True)]


def canonical(text: str) -> str:
    return parse_condition(text, COLUMNS).to_sql()


def test_conditions_render_in_one_canonical_form():
    expected = "(\"carat\" > 2) AND (\"cut\" = 'Ideal')"
    assert canonical("2 < carat AND cut = 'Ideal'") == expected
    assert canonical("CUT='Ideal' and (Carat > 2.0)") == expected
    assert canonical("cut = 'Ideal' AND carat > 2 AND cut = 'Ideal'") == expected


@pytest.mark.parametrize("text", [
    "carat BETWEEN 1 AND 2", "cut IN ('Ideal', 'Good')", "depth IS NULL", "depth IS NOT NULL", "cut LIKE 'Very%'",
    "cut ILIKE '%good'", "NOT cut = 'Fair'", "carat > 1 OR price < 500", "price * 2 + 1 > carat / 3 - 4",
    "lower(cut) = 'ideal'", "abs(depth - 61) < 1", "round(carat, 1) = 1.0", "length(cut) > 4",
])
def test_the_grammar_accepts_comparisons_logic_arithmetic_and_allowed_functions(text):
    assert canonical(text) == canonical(canonical(text))  # the canonical text parses back to itself


@pytest.mark.parametrize(("text", "message"), [
    ("carat > ?", "Condition 'carat > ?' uses a parameter"),
    ("carat > $1", "Condition 'carat > $1' uses a parameter"),
    ("carat > (SELECT max(carat) FROM diamonds)", "uses a subquery or another table; only the model's own columns"),
    ("EXISTS (SELECT 1)", "uses a subquery or another table"),
    ("random() < 0.5", "() is not allowed in a condition (volatile or unknown). Allowed: abs, "),  # names it rand()
    ("my_udf(carat) > 1", "Function my_udf() is not allowed in a condition"),
    ("carat > 1; DROP TABLE diamonds", "A condition is one boolean expression; 'carat > 1; DROP TABLE diamonds' has "
                                       "2 statements."),
    ("", "A condition must be non-empty SQL text such as 'age > 50'. Got ''."),
    ("carat >>> 1", "Cannot parse condition 'carat >>> 1'"),
])
def test_parameters_subqueries_volatile_functions_and_bad_text_are_refused(text, message):
    with pytest.raises(ConditionSyntaxError, match=re.escape(message)) as info:
        parse_condition(text, COLUMNS)
    assert isinstance(info.value, GenesisError)


def test_unknown_columns_are_named_with_suggestions():
    with pytest.raises(UnknownColumnError, match=re.escape(
            "Condition names unknown column 'crat'. Did you mean 'carat'? The model's columns: carat, cut, price, "
            "depth.")):
        parse_condition("crat > 1", COLUMNS)
