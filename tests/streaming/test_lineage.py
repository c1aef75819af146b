"""A stream's running fingerprint equals the one lineage takes of the finished table."""
from __future__ import annotations

import pyarrow as pa

import genesis_sql
from genesis_sql.lineage.fingerprint import table_fingerprint
from genesis_sql.streaming.encoding import RowEncoder
from genesis_sql.streaming.lineage import StreamFingerprint


def test_running_fingerprint_matches_table_fingerprint(con):
    table = genesis_sql.generate(con, "economics", 3000, seed=8)
    encoder = RowEncoder(table.schema, json=False)
    running = StreamFingerprint(table.column_names)
    for start in range(0, 3000, 700):
        running.add(encoder.encode(table.slice(start, 700)))
    encoder.close()
    assert running.fingerprint() == table_fingerprint(con, table)


def test_fingerprint_depends_on_the_rows(con):
    table = pa.table({"a": [1, 2, 3]})
    encoder = RowEncoder(table.schema, json=False)
    whole, part = StreamFingerprint(["a"]), StreamFingerprint(["a"])
    whole.add(encoder.encode(table))
    part.add(encoder.encode(table.slice(0, 2)))
    assert whole.fingerprint() != part.fingerprint()
    assert part.fingerprint() == table_fingerprint(con, table.slice(0, 2))
