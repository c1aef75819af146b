"""How auto chooses between fitted candidates: the sample similarity, and the choice it makes."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.models import SELECTION_ROWS, candidate_methods
from genesis_sql.quality.selection import similarity
from tests.models.conftest import typed


@pytest.fixture(scope="module")
def correlated() -> tuple[pa.Table, list]:
    """Two strongly correlated numbers and a category that depends on them, plus an independent number."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    return typed(pa.table({"x": x, "y": x + rng.normal(scale=0.3, size=x.size),
                           "band": np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")),
                           "noise": rng.normal(size=x.size)}))


def test_a_table_is_identical_to_itself_and_losing_its_dependence_costs_only_the_dependent_pairs(correlated):
    table, columns = correlated
    assert similarity(table, table, columns) == pytest.approx(1.0)
    shuffled = table.set_column(1, "y", pa.array(np.random.default_rng(1).permutation(table["y"].to_numpy())))
    # Shapes are untouched; of the pairs only x-y and y-band (dependent in the training rows) count, and both
    # are lost: the pair half of the score falls, independent pairs (noise-*) are not diluting it.
    assert similarity(table, shuffled, columns) < 0.9
    noisy = table.set_column(3, "noise", pa.array(np.random.default_rng(2).permutation(table["noise"].to_numpy())))
    assert similarity(table, noisy, columns) == pytest.approx(1.0)


def test_auto_fits_both_candidates_up_to_the_selection_size_only():
    kinds = ["numeric", "categorical", "integer"]
    assert candidate_methods("auto", 5_000, kinds) == ("arf", "copula")
    assert candidate_methods("auto", SELECTION_ROWS + 1, kinds) == ("arf",)
    assert candidate_methods("auto", 100, kinds) == ("copula",)
    assert candidate_methods("arf", 5_000, kinds) == ("arf",)


def test_auto_keeps_the_copula_for_many_strong_linear_correlations_and_the_forest_for_a_curve(con, caplog):
    """A few hundred rows of 12 numbers driven by three common factors: a copula's home ground, where a
    forest's leaves are too few; y = x^2 is the forest's."""
    rng = np.random.default_rng(3)
    linear = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 12)) + 0.25 * rng.normal(size=(300, 12))
    con.register("linear_df", pa.table({f"c{j}": linear[:, j] for j in range(12)}))
    x = rng.uniform(-1, 1, 3000)
    con.register("curve_df", pa.table({"x": x, "y": x ** 2 + rng.normal(scale=0.05, size=x.size),
                                       "side": np.where(x > 0, "right", "left")}))
    with caplog.at_level(logging.INFO, logger="genesis_sql.api"):
        assert genesis_sql.fit(con, "linear", "SELECT * FROM linear_df").method == "copula"
        assert genesis_sql.fit(con, "curve", "SELECT * FROM curve_df").method == "arf"
    assert "(similarity arf" in caplog.text
