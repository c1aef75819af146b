from __future__ import annotations

import hashlib
import re

import duckdb
import pytest

from genesis_sql.errors import LineageError
from genesis_sql.lineage.block import COLUMNS, HASH_SQL, ZERO_HASH, BlockDraft, LineageBlock, block_hash


def test_hash_is_sha256_of_the_lengths_then_the_stored_fields():
    fields = ["7", "id-1", "source", "2025-01-01T00:00:00.000000Z", ZERO_HASH, "d" * 64, '{"a":1}']
    encoded = [f.encode("utf-8") for f in fields]
    preimage = (b"genesis-lineage-block/1" + b"".join(len(f).to_bytes(8, "big") for f in encoded)
                + b"".join(encoded))
    assert block_hash(7, *fields[1:]) == hashlib.sha256(preimage).hexdigest()


@pytest.mark.parametrize("fields", [
    (0, "", "", "", "", "", ""),
    (7, "id-é", "transform", "2025-01-01T00:00:00.000000Z", ZERO_HASH, "d" * 64, '{"a":"café ☕ 𝄞"}'),
    (2**63 - 1, "a\x00b", "fit", "\n", "\\x00", "'", "c" * 100_000),
    (-12, "😀" * 300, "x", "t", "p", "d", '{"k":"\\u00e9"}'),
], ids=["empty", "non-ascii", "nul-and-long", "negative-seq"])
def test_the_sql_hash_is_the_python_hash_byte_for_byte(fields):
    with duckdb.connect() as con:
        columns = ", ".join(f"?::{'BIGINT' if name == 'seq' else 'VARCHAR'} AS {name}" for name in COLUMNS[:7])
        query = f"SELECT {HASH_SQL} FROM (SELECT {columns})"
        assert con.execute(query, list(fields)).fetchall() == [(block_hash(*fields),)]


def test_build_stores_canonical_content_and_verifies():
    block = LineageBlock.build(BlockDraft("transform", {"b": 2, "a": "é"}), seq=1, previous_hash=ZERO_HASH,
                               timestamp="2025-01-01T00:00:00.000000Z")
    assert block.content == '{"a":"é","b":2}'
    assert block.payload == {"a": "é", "b": 2}
    assert block.verify()
    assert LineageBlock.from_dict(block.as_dict()) == block


def test_any_field_edit_changes_the_hash():
    block = LineageBlock.build(BlockDraft("transform", {"a": 1}), seq=1, previous_hash=ZERO_HASH,
                               timestamp="2025-01-01T00:00:00.000000Z")
    for name in ("block_id", "block_type", "timestamp", "previous_hash", "data_hash", "content"):
        edited = LineageBlock.from_dict({**block.as_dict(), name: getattr(block, name) + " "})
        assert not edited.verify(), name
    assert not LineageBlock.from_dict({**block.as_dict(), "seq": 2}).verify()


def test_same_json_other_bytes_is_another_block():
    block = LineageBlock.build(BlockDraft("transform", {"a": 1, "b": 2}), seq=1, previous_hash=ZERO_HASH,
                               timestamp="2025-01-01T00:00:00.000000Z")
    reordered = LineageBlock.from_dict({**block.as_dict(), "content": '{"b":2,"a":1}'})
    assert reordered.payload == block.payload and not reordered.verify()


@pytest.mark.parametrize("data, message", [
    ({"seq": 1}, "exactly the fields"),
    ("not a dict", "exactly the fields"),
])
def test_from_dict_checks_shape(data, message):
    with pytest.raises(LineageError, match=re.escape(message)):
        LineageBlock.from_dict(data)


def test_from_dict_checks_types():
    block = LineageBlock.build(BlockDraft("transform", {}), seq=1, previous_hash=ZERO_HASH, timestamp="t")
    for seq in ("1", True, 2**63):
        with pytest.raises(LineageError, match="seq must be an integer"):
            LineageBlock.from_dict({**block.as_dict(), "seq": seq})
    with pytest.raises(LineageError, match="content must be text"):
        LineageBlock.from_dict({**block.as_dict(), "content": {"a": 1}})
