"""+-Infinity in a numeric training column (issue 11, item 6): every method refuses the fit with a FitError
that names the column and counts the values, and stores nothing. (Before: the copula generated 0.0 for
every row, the forest stored a model that could not generate, auto raised a raw IndexError.)"""
from __future__ import annotations

import importlib.util

import duckdb
import numpy as np
import pytest

import genesis_sql
from genesis_sql.errors import FitError
from tests.hostile.conftest import snapshot

METHODS = ["copula", "arf", "auto", "sequence",
           pytest.param("tvae", marks=pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                                         reason="tvae needs torch"))]


@pytest.fixture
def rows(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """300 rows over 30 entities: a price from 2 to 999 with two +inf and one -inf, a size, a kind."""
    rng = np.random.default_rng(0)
    price = np.round(rng.uniform(2, 999, 300), 2)
    price[[5, 50]], price[77] = np.inf, -np.inf
    con.execute("CREATE TABLE items AS SELECT unnest(?) AS price, unnest(?) AS size, unnest(?) AS kind, "
                "unnest(?) AS entity, CAST(unnest(?) AS DOUBLE) AS step",
                [price.tolist(), rng.integers(1, 50, 300).tolist(), rng.choice(["a", "b", "c"], 300).tolist(),
                 (np.arange(300) // 10).tolist(), (np.arange(300) % 10).tolist()])
    return con


@pytest.mark.parametrize("method", METHODS)
def test_infinite_values_are_refused_by_every_method(rows: duckdb.DuckDBPyConnection, method: str):
    before = snapshot(rows)
    options = {"sequence_key": "entity", "sequence_index": "step"} if method == "sequence" else {}
    with pytest.raises(FitError, match=r"Column 'price' has 3 infinite values \(2 \+inf, 1 -inf\)") as caught:
        genesis_sql.fit(rows, "items", "SELECT * FROM items", method=method, **options)
    assert "isinf" in str(caught.value)  # says how to keep the rest of the column
    assert snapshot(rows) == before


def test_infinite_values_are_refused_in_the_sequence_index_and_from_sql(rows: duckdb.DuckDBPyConnection):
    rows.execute("UPDATE items SET step = 'inf'::DOUBLE WHERE entity = 3 AND step = 9")
    with pytest.raises(FitError, match=r"Column 'step' has 1 infinite value \(1 \+inf, 0 -inf\)"):
        genesis_sql.fit(rows, "items", "SELECT entity, step, size FROM items", sequence_key="entity",
                        sequence_index="step")
    with pytest.raises(duckdb.Error, match=r"FitError: Column 'price' has 3 infinite values"):
        rows.execute("SELECT genesis_fit('items', 'SELECT price, size FROM items')").fetchall()


def test_the_documented_way_out_fits(rows: duckdb.DuckDBPyConnection):
    summary = genesis_sql.fit(rows, "items", "SELECT * REPLACE (CASE WHEN isinf(price) THEN NULL ELSE price END "
                                             "AS price) FROM items", method="copula")
    made = genesis_sql.generate(rows, "items", 2000, seed=1).column("price").to_numpy(zero_copy_only=False)
    finite = made[~np.isnan(made)]
    assert summary.training_rows == 300
    assert finite.min() >= 2 and finite.max() <= 999 and np.unique(finite).size > 100
