"""Singling-out queries: every operator, NULL semantics, blocks, distinct queries and rows."""
from __future__ import annotations

import numpy as np
import pytest

from genesis_sql.quality.attacks import queries as q
from genesis_sql.quality.attacks.queries import EQ, GE, IS_NULL, LE, LT, NE, NOT_NULL, Queries, first_distinct

NAN = np.nan
# Column 0 continuous, column 1 discrete codes; NULL is NaN in both.
MATRIX = np.array([[1.0, 0.0], [2.0, 1.0], [NAN, 1.0], [3.0, NAN]])


def one(column: int, op: int, value: float = NAN) -> Queries:
    return Queries(np.array([[column]]), np.array([[op]]), np.array([[value]]))


@pytest.mark.parametrize("column, op, value, expected", [
    (0, EQ, 2.0, 1), (0, NE, 2.0, 2), (0, LT, 3.0, 2), (0, GE, 2.0, 2), (0, IS_NULL, NAN, 1),
    (1, NOT_NULL, NAN, 3), (1, NE, 0.0, 2), (1, EQ, 1.0, 2),
])
def test_each_operator_and_null_never_satisfies_a_comparison(column, op, value, expected):
    assert one(column, op, value).counts(MATRIX).tolist() == [expected]


def test_a_query_is_the_conjunction_of_its_predicates_and_blocks_do_not_matter(monkeypatch: pytest.MonkeyPatch):
    conjunctions = Queries(np.array([[0, 1], [0, 1], [0, 1]]), np.array([[LE, EQ], [GE, IS_NULL], [NE, NE]]),
                           np.array([[2.0, 1.0], [1.0, NAN], [5.0, 1.0]]))
    expected = [1, 1, 1]  # row 1; row 3; row 0
    assert conjunctions.counts(MATRIX).tolist() == expected
    monkeypatch.setattr(q, "BLOCK_CELLS", 1)
    assert conjunctions.counts(MATRIX).tolist() == expected


def test_distinct_keeps_first_occurrences_and_ignores_the_value_of_null_tests():
    repeated = Queries(np.array([[0], [1], [0], [1], [0]]), np.array([[EQ], [IS_NULL], [EQ], [IS_NULL], [EQ]]),
                       np.array([[1.0], [NAN], [1.0], [7.0], [2.0]]))
    kept = repeated.distinct()
    assert kept.columns.ravel().tolist() == [0, 1, 0] and kept.values[[0, 2], 0].tolist() == [1.0, 2.0]


def test_first_distinct_rows_treat_null_as_equal_to_null():
    rows = np.array([[1.0, NAN], [1.0, NAN], [1.0, 0.0], [NAN, NAN], [NAN, NAN]])
    assert first_distinct(rows).tolist() == [0, 2, 3]
