"""The distribution summaries the figures draw."""
from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality._columns import encode_columns
from genesis_sql.quality.distributions import HISTOGRAM_BINS, NULL, OTHER, TOP_CATEGORIES, distribution


def test_histogram_shares_sum_to_one_with_shared_edges():
    rng = np.random.default_rng(0)
    real, synthetic = pa.table({"x": rng.normal(size=1000)}), pa.table({"x": rng.normal(1, 1, size=800)})
    (column,) = encode_columns({"real": real, "synthetic": synthetic}, [{"name": "x", "kind": "numeric"}])
    summary = distribution(column)
    assert summary["kind"] == "histogram" and len(summary["edges"]) == HISTOGRAM_BINS + 1
    # Shares are rounded to 6 decimals when stored.
    assert sum(summary["real"]) == pytest.approx(1, abs=1e-4)
    assert sum(summary["synthetic"]) == pytest.approx(1, abs=1e-4)


def test_datetime_edges_are_iso_text():
    days = pa.table({"d": [datetime.date(2020, 1, 1) + datetime.timedelta(days=i) for i in range(100)]})
    (column,) = encode_columns({"real": days, "synthetic": days}, [{"name": "d", "kind": "datetime"}])
    edges = distribution(column)["edges"]
    assert edges[0] == "2020-01-01T00:00:00" and edges[-1].startswith("2020-04-09")


def test_frequencies_keep_the_top_categories_null_and_other():
    labels = [f"c{i}" for i in range(TOP_CATEGORIES + 5)]
    real = pa.table({"c": labels + ["c0"] * 10 + [None] * 3})
    synthetic = pa.table({"c": ["c0", "zz", None]})
    (column,) = encode_columns({"real": real, "synthetic": synthetic}, [{"name": "c", "kind": "categorical"}])
    summary = distribution(column)
    assert summary["labels"][0] == "c0" and NULL in summary["labels"] and summary["labels"][-1] == OTHER
    assert len(summary["labels"]) == TOP_CATEGORIES + 1
    # Shares are rounded to 6 decimals when stored.
    assert sum(summary["real"]) == pytest.approx(1, abs=1e-4)
    assert sum(summary["synthetic"]) == pytest.approx(1, abs=1e-4)
