"""Linear conditions between two numeric columns, read as an interval of one column given the other."""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from genesis_sql.models import GaussianCopula
from genesis_sql.models._pair import LinearPair, PairScores, linear_pair
from genesis_sql.schema import detect_schema
from tests.conftest import diamonds_sample_sql

INF = math.inf


@pytest.mark.parametrize(("text", "expected"), [
    ('"x" > "y" + 0.46', ("x", "y", 1.0, 0.46, INF)),
    ('"x" - "y" BETWEEN -0.1 AND 0.05', ("x", "y", 1.0, -0.1, 0.05)),
    ('2 * "a" >= -"b" - 3', ("a", "b", -0.5, -1.5, INF)),
    ('"a" / 4 < "b"', ("a", "b", 4.0, -INF, 0.0)),
    ('-"x" + "y" > 3', ("x", "y", 1.0, -INF, -3.0)),
])
def test_linear_comparisons_of_two_columns_are_solved_for_the_first(text: str, expected: tuple) -> None:
    pair = linear_pair(text)
    assert (pair.target, pair.driver) == expected[:2]
    assert (pair.slope, pair.low, pair.high) == pytest.approx(expected[2:])


@pytest.mark.parametrize("text", ['"a" * "b" > 1', '"a" > 1 + 0 * "b"', '"a" + "b" > "c"', '"a" // 2 > "b"',
                                  'lower("s") = "t"', '"a" = "b"', '"a" > 1 OR "b" > 1'])
def test_other_conjuncts_are_not_pairs(text: str) -> None:
    assert linear_pair(text) is None


@pytest.fixture(scope="module")
def diamonds() -> GaussianCopula:
    rel = duckdb.sql(diamonds_sample_sql())
    table = rel.to_arrow_table()
    return GaussianCopula().fit(table, detect_schema(table, {n: str(t) for n, t in zip(rel.columns, rel.types)}))


@pytest.mark.parametrize(("target", "driver", "slope", "low", "high"), [
    ("x", "y", 1.0, 0.3, INF),           # continuous columns rounded to 2 decimals
    ("depth", "table", -0.1, 70.0, INF),  # few-valued columns
    ("price", "carat", 1000.0, -INF, -500.0),
    ("x", "y", 1.0, -0.05, 0.05),
])
def test_every_target_value_the_condition_allows_lies_within_the_bounds(diamonds, target, driver, slope, low,
                                                                         high) -> None:
    """The bounds are a superset of the allowed scores, and not much more (checked on a fine score grid)."""
    codecs = {c.spec.name: c for c in diamonds.codecs_}
    scores = PairScores(LinearPair("", target, driver, slope, low, high), codecs[target], codecs[driver])
    driver_z = np.linspace(-4, 4, 101)
    low_z, high_z = scores.target_scores(driver_z)
    target_z = np.linspace(-6, 6, 24_001)
    driven = codecs[driver].numbers_from_normal(driver_z)[:, None]
    values = codecs[target].numbers_from_normal(target_z)[None, :]
    allowed = (values >= slope * driven + low) & (values <= slope * driven + high)
    inside = (target_z[None, :] >= low_z[:, None]) & (target_z[None, :] <= high_z[:, None])
    assert allowed.any() and not (allowed & ~inside).any()
    assert (inside & ~allowed).sum() < 0.15 * inside.sum()
