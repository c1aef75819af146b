"""SDMetrics' DCR distance, checked against a by-hand computation and a brute-force search."""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from genesis_sql.quality import distance
from genesis_sql.quality._columns import encode_columns

COLUMNS = [{"name": "x", "kind": "numeric"}, {"name": "c", "kind": "categorical"}]


def encoded(a: pa.Table, b: pa.Table):
    return encode_columns({"a": a, "b": b}, COLUMNS)


def test_distance_by_hand_with_nulls():
    reference = pa.table({"x": [0.0, 10.0, None], "c": ["p", "q", None]})
    query = pa.table({"x": [5.0, None, 30.0], "c": ["p", None, "q"]})
    columns = encoded(query, reference)
    ranges = distance.column_ranges(columns, ("b", np.arange(3)))
    assert ranges.tolist() == [10.0]
    near = distance.nearest(columns, ranges, ("a", np.arange(3)), ("b", np.arange(3)), k=3)
    # Row 0 (5, p): to (0, p) (0.5 + 0) / 2 = 0.25; to (10, q) (0.5 + 1) / 2 = 0.75; to (NULL, NULL) 1.
    assert near.a_to_b[0].tolist() == pytest.approx([0.25, 0.75, 1.0])
    # Row 1 (NULL, NULL) is at 0 from (NULL, NULL); row 2 (30, q): |30 - 10| / 10 clips to 1 -> (1 + 0) / 2.
    assert near.a_to_b[1, 0] == 0.0
    assert near.a_to_b[2, 0] == pytest.approx(0.5)


def test_zero_range_counts_any_difference_as_one():
    columns = encoded(pa.table({"x": [1.0, 2.0], "c": ["p", "p"]}), pa.table({"x": [1.0, 1.0], "c": ["p", "p"]}))
    ranges = distance.column_ranges(columns, ("b", np.arange(2)))
    near = distance.nearest(columns, ranges, ("a", np.arange(2)), ("b", np.arange(2)))
    assert near.a_to_b[:, 0].tolist() == [0.0, 0.5]


def test_nearest_matches_brute_force_in_both_directions(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(3)
    a = pa.table({"x": rng.normal(size=57), "c": rng.choice(list("pqr"), 57)})
    b = pa.table({"x": rng.normal(size=41), "c": rng.choice(list("pqrs"), 41)})
    columns = encoded(a, b)
    ranges = distance.column_ranges(columns, ("b", np.arange(41)))
    # Small blocks, so that several of them are combined.
    monkeypatch.setattr(distance, "BLOCK_CELLS", 200)
    near = distance.nearest(columns, ranges, ("a", np.arange(57)), ("b", np.arange(41)), k=2)
    brute = np.zeros((57, 41))
    for i, j in itertools.product(range(57), range(41)):
        dx = min(abs(columns[0]["a"][i] - columns[0]["b"][j]) / ranges[0], 1.0)
        brute[i, j] = (dx + float(columns[1]["a"][i] != columns[1]["b"][j])) / 2
    assert near.a_to_b == pytest.approx(np.sort(brute, axis=1)[:, :2], abs=1e-6)
    assert near.b_to_a == pytest.approx(brute.min(axis=0), abs=1e-6)
    assert near.closest.tolist() == brute.argmin(axis=1).tolist()


def test_ranges_span_every_reference_and_ties_go_to_the_first_row():
    columns = encoded(pa.table({"x": [0.0, 4.0], "c": ["p", "p"]}), pa.table({"x": [1.0, 3.0, 3.0], "c": ["p"] * 3}))
    assert distance.column_ranges(columns, ("b", np.arange(3))).tolist() == [2.0]
    ranges = distance.column_ranges(columns, ("a", np.arange(2)), ("b", np.arange(3)))
    assert ranges.tolist() == [4.0]
    near = distance.nearest(columns, ranges, ("a", np.arange(2)), ("b", np.arange(3)))
    assert near.closest.tolist() == [0, 1] and near.a_to_b[:, 0].tolist() == [0.125, 0.125]


def test_one_hot_products_and_column_by_column_comparison_agree(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(4)
    a = pa.table({"x": rng.normal(size=30), "c": rng.choice(["p", "q", None], 30)})
    b = pa.table({"x": rng.normal(size=20), "c": rng.choice(["p", "r", None], 20)})
    columns = encoded(a, b)
    ranges = distance.column_ranges(columns, ("b", np.arange(20)))
    by_product = distance.nearest(columns, ranges, ("a", np.arange(30)), ("b", np.arange(20)), k=3)
    monkeypatch.setattr(distance, "ONE_HOT_MAX", 0)
    by_column = distance.nearest(columns, ranges, ("a", np.arange(30)), ("b", np.arange(20)), k=3)
    assert by_product.a_to_b == pytest.approx(by_column.a_to_b) and by_product.b_to_a == pytest.approx(by_column.b_to_a)
