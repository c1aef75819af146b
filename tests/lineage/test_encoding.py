from __future__ import annotations

import re

import numpy as np
import pytest

from genesis_sql.errors import LineageError
from genesis_sql.lineage.encoding import canonical_bytes, canonical_json


def test_keys_sorted_no_whitespace_utf8_kept():
    assert canonical_json({"b": [1, 2.5, None], "a": {"é": True, "Z": "ü\n"}}) == '{"a":{"Z":"ü\\n","é":true},"b":[1,2.5,null]}'
    assert canonical_bytes({"k": "☕"}) == '{"k":"☕"}'.encode("utf-8")


def test_floats_are_shortest_round_trip_repr():
    assert canonical_json([0.1, 1e300, -0.0, 1.0, 2**60]) == "[0.1,1e+300,-0.0,1.0,1152921504606846976]"


def test_tuples_are_arrays():
    assert canonical_json({"t": (1, "x")}) == '{"t":[1,"x"]}'


@pytest.mark.parametrize("value, message", [
    (float("nan"), "only finite numbers"),
    ({"x": [float("inf")]}, "Lineage content at $.x[0] is inf"),
    ({1: "a"}, "object keys must be strings"),
    ({"n": np.int64(3)}, "is a int64"),
    ({"s": {1, 2}}, "is a set"),
    ({"s": "\ud800"}, "lone surrogate"),
])
def test_non_json_values_are_rejected(value, message):
    with pytest.raises(LineageError, match=re.escape(message)):
        canonical_json(value)
