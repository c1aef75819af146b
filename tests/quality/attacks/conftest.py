"""Populations to attack: training rows, holdout rows from the same population, and synthetic rows that
either copy training rows (a leak) or are fresh rows of the population (no leak)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality._columns import encode_columns

ROWS = 400
SYNTHETIC_ROWS = 800
COPIES = 300
COLUMNS = [{"name": "a", "kind": "numeric"}, {"name": "b", "kind": "numeric"}, {"name": "n", "kind": "integer"},
           {"name": "c", "kind": "categorical"}, {"name": "d", "kind": "categorical"}, {"name": "f", "kind": "boolean"}]


def population(rows: int, rng: np.random.Generator) -> pa.Table:
    return pa.table({"a": rng.normal(size=rows), "b": rng.lognormal(size=rows), "n": rng.integers(0, 100, rows),
                     "c": rng.choice(list("pqrstu"), rows), "d": rng.choice(["x", "y", None], rows),
                     "f": rng.random(rows) < 0.3})


def attackable(leak: bool) -> dict:
    rng = np.random.default_rng(7)
    train, holdout, fresh = population(ROWS, rng), population(ROWS, rng), population(SYNTHETIC_ROWS, rng)
    synthetic = pa.concat_tables([fresh.slice(COPIES), train.slice(0, COPIES)]) if leak else fresh
    columns = encode_columns({"train": train, "holdout": holdout, "synthetic": synthetic}, COLUMNS)
    sides = {"synthetic": ("synthetic", np.arange(synthetic.num_rows)), "original": ("train", np.arange(ROWS)),
             "control": ("holdout", np.arange(ROWS))}
    return {"columns": columns, "sides": sides}


@pytest.fixture(scope="module")
def leaky() -> dict:
    """Synthetic rows of which 300 are training rows."""
    return attackable(leak=True)


@pytest.fixture(scope="module")
def private() -> dict:
    """Synthetic rows that are fresh rows of the population."""
    return attackable(leak=False)
