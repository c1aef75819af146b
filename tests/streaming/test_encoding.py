"""RowEncoder: JSON messages equal to what json.dumps makes of the same rows, with the documented choices."""
from __future__ import annotations

import datetime as dt
import doctest
import json

import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.streaming import config, encoding, generator, rate
from genesis_sql.streaming.encoding import RowEncoder


def _encode(table: pa.Table, **options):
    encoder = RowEncoder(table.schema, **options)
    try:
        return encoder.encode(table)
    finally:
        encoder.close()


def test_model_rows_read_back_as_the_same_values_and_types(con):
    table = genesis_sql.generate(con, "diamonds", 5000, seed=1)
    messages = _encode(table).messages
    decoded = [json.loads(m) for m in messages]
    assert decoded == table.to_pylist()
    assert all(type(a) is type(b)
               for row, ref in zip(decoded, table.to_pylist()) for a, b in zip(row.values(), ref.values()))


def test_dates_become_iso_text(con):
    table = genesis_sql.generate(con, "economics", 50, seed=1)
    decoded = [json.loads(m) for m in _encode(table).messages]
    assert [dt.date.fromisoformat(row["date"]) for row in decoded] == table.column("date").to_pylist()


def test_special_values():
    table = pa.table({
        "f": [1.0, float("nan"), float("inf"), None],
        "i": pa.array([2**64 - 1, 0, 1, None], pa.uint64()),
        "b": [True, False, None, True],
        "s": ['say "hi"\\', "line\nbreak\ttab", "\x01é€", None],
        "d": [dt.date(2024, 2, 29), None, dt.date(1970, 1, 1), dt.date(2000, 1, 1)],
        "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None, dt.datetime(1999, 12, 31), None],
                       pa.timestamp("us")),
        "tz": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)] * 4, pa.timestamp("us", tz="UTC")),
        "cat": pa.array(["x", "y", None, "x"]).dictionary_encode(),
    })
    rows = [json.loads(m) for m in _encode(table).messages]
    assert rows[0] == {"f": 1.0, "i": 2**64 - 1, "b": True, "s": 'say "hi"\\', "d": "2024-02-29",
                       "ts": "2024-01-02T03:04:05.000006", "tz": "2024-01-02T03:04:05.000000Z", "cat": "x"}
    assert [r["f"] for r in rows] == [1.0, None, None, None]
    assert rows[1]["s"] == "line\nbreak\ttab" and rows[2]["s"] == "\x01é€" and rows[3]["s"] is None
    assert rows[2]["b"] is None and rows[1]["ts"] is None and rows[2]["cat"] is None
    assert all(b"\n" not in m for m in _encode(table).messages)


def test_keys_are_text_and_hashes_one_per_row():
    table = pa.table({"id": [1, 2, None], "v": ["a", "b", "c"]})
    encoded = _encode(table, key_column="id")
    assert encoded.keys == ["1", "2", None]
    assert encoded.hashes.shape == (3,) and len(set(encoded.hashes.tolist())) == 3
    assert encoded.slice(1, 3).keys == ["2", None] and encoded.slice(1, 3).num_rows == 2


def test_arrow_only_encoding_skips_json():
    encoded = _encode(pa.table({"a": [1]}), json=False)
    assert encoded.messages is None and encoded.hashes.shape == (1,)


def test_unsupported_column_type_is_named():
    with pytest.raises(InvalidArgumentError, match="Cannot stream column 'tags' of Arrow type list<item: string>"):
        RowEncoder(pa.schema([("tags", pa.list_(pa.string()))]))


@pytest.mark.parametrize("module", [config, encoding, generator, rate])
def test_docstring_examples_run(module):
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
