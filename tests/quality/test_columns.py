"""Encoding Arrow columns: shared codes across tables, NULLs, temporal and mismatched types."""
from __future__ import annotations

import datetime
import decimal

import numpy as np
import pyarrow as pa

from genesis_sql.quality._columns import encode_columns


def test_codes_are_shared_and_equal_values_of_other_types_get_one_code():
    real = pa.table({"c": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)), "k": ["a", "b"]})
    synthetic = pa.table({"c": [1.5, 2.0], "k": ["b", None]})
    cols = [{"name": "c", "kind": "categorical"}, {"name": "k", "kind": "categorical"}]
    c, k = encode_columns({"real": real, "synthetic": synthetic}, cols)
    assert c["real"][1] == -1 and c.labels[c["real"][0]] == 1.5 and c["synthetic"][0] == c["real"][0]
    assert k["real"].tolist() == [0, 1] and k["synthetic"].tolist() == [1, -1]


def test_continuous_columns_become_floats_with_nan():
    stamps = pa.array([datetime.datetime(2020, 1, 1), None], pa.timestamp("us"))
    table = pa.table({"t": stamps, "i": pa.array([1, None], pa.int64()), "id": ["x", "y"]})
    cols = [{"name": "t", "kind": "datetime"}, {"name": "i", "kind": "integer"}, {"name": "id", "kind": "id"}]
    t, i = encode_columns({"real": table, "synthetic": table}, cols)
    assert t.unit == "us" and t["real"][0] == 1577836800000000.0 and np.isnan(t["real"][1])
    assert i["real"][0] == 1.0 and i.is_null("real").tolist() == [False, True]


def test_dates_and_timestamps_of_other_units_share_one_scale():
    real = pa.table({"d": pa.array([datetime.date(2020, 1, 2)], pa.date32())})
    synthetic = pa.table({"d": pa.array([datetime.datetime(2020, 1, 2)], pa.timestamp("s"))})
    (column,) = encode_columns({"real": real, "synthetic": synthetic}, [{"name": "d", "kind": "datetime"}])
    assert column["real"][0] == column["synthetic"][0] == 1577923200000000.0


def test_one_table_under_two_roles_is_encoded_once():
    table = pa.table({"x": [1.0, 2.0]})
    (column,) = encode_columns({"real": table, "train": table}, [{"name": "x", "kind": "numeric"}])
    assert column["real"] is column["train"]
