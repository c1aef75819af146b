"""TSTR against TRTR on data where the answer is known."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.utility import ml_efficacy

COLUMNS = [{"name": "x", "kind": "numeric"}, {"name": "c", "kind": "categorical"}, {"name": "y", "kind": "numeric"},
           {"name": "label", "kind": "categorical"}]


def make(rng: np.random.Generator, size: int, *, related: bool = True) -> pa.Table:
    x = rng.normal(size=size)
    c = rng.choice(["p", "q"], size)
    noise = rng.normal(scale=0.1, size=size)
    y = (2 * x + (c == "p") + noise) if related else rng.normal(size=size)
    label = np.where(x > 0, "hi", "lo") if related else rng.choice(["hi", "lo"], size)
    return pa.table({"x": x, "c": c, "y": y, "label": label})


@pytest.mark.parametrize("target, metric", [("y", "r2"), ("label", "f1_macro")])
def test_synthetic_from_the_same_process_is_as_useful(target: str, metric: str):
    rng = np.random.default_rng(0)
    columns = encode_columns({"real": make(rng, 1500), "synthetic": make(rng, 1000)}, COLUMNS)
    result = ml_efficacy(columns, target, real_rows=np.arange(500, 1500), synthetic_rows=np.arange(1000),
                         test_side="real", test_rows=np.arange(500), seed=0)
    assert result.metric == metric and result.trtr > 0.9 and result.score > 0.9


def test_synthetic_without_the_relationship_is_useless():
    rng = np.random.default_rng(1)
    columns = encode_columns({"real": make(rng, 1500), "synthetic": make(rng, 1000, related=False)}, COLUMNS)
    result = ml_efficacy(columns, "y", real_rows=np.arange(500, 1500), synthetic_rows=np.arange(1000),
                         test_side="real", test_rows=np.arange(500), seed=0)
    assert result.task == "regression" and result.trtr > 0.9 and result.score < 0.1
