from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from genesis_sql.errors import LineageError
from genesis_sql.lineage import query_fingerprint, table_fingerprint
from genesis_sql.lineage.fingerprint import BatchFingerprint


@pytest.fixture
def rows():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id, range * 0.5 AS x, 'c' || (range % 3) AS c, "
                "CASE WHEN range % 7 = 0 THEN NULL ELSE DATE '2024-01-01' + range::INTEGER END AS d FROM range(3000)")
    yield con
    con.close()


def test_order_independent_but_sensitive_to_every_value(rows):
    base = query_fingerprint(rows, "SELECT * FROM t")
    assert base.row_count == 3000
    assert query_fingerprint(rows, "SELECT * FROM t ORDER BY random()") == base
    assert query_fingerprint(rows, "SELECT * FROM t WHERE id <> 17") != base
    assert query_fingerprint(rows, "SELECT id, x + (id = 5)::INT AS x, c, d FROM t") != base
    assert query_fingerprint(rows, "SELECT id AS key, x, c, d FROM t") != base
    assert query_fingerprint(rows, "SELECT * FROM t; ") == base
    assert query_fingerprint(rows, "SELECT * FROM t -- all of it") == base


def test_duplicates_count(rows):
    once = query_fingerprint(rows, "SELECT * FROM t WHERE id < 2")
    twice = query_fingerprint(rows, "SELECT * FROM t WHERE id < 2 UNION ALL SELECT * FROM t WHERE id = 1")
    swapped = query_fingerprint(rows, "SELECT * FROM t WHERE id = 0 UNION ALL SELECT * FROM t WHERE id = 0")
    assert len({once.rows_hash, twice.rows_hash, swapped.rows_hash}) == 3


def test_arrow_tables_and_streams_match_the_query_they_came_from(rows):
    table = rows.sql("SELECT * FROM t").to_arrow_table()
    expected = query_fingerprint(rows, "SELECT * FROM t")
    assert table_fingerprint(rows, table) == expected
    batches = BatchFingerprint(rows)
    passed = list(batches.wrap(iter([table.slice(0, 1000), table.slice(1000, 1500), table.slice(2500)])))
    assert sum(t.num_rows for t in passed) == 3000
    assert batches.result() == expected


def test_a_bad_query_is_named(rows):
    with pytest.raises(LineageError, match="Cannot fingerprint the rows of 'SELECT nope FROM t'"):
        query_fingerprint(rows, "SELECT nope FROM t")


def test_empty_results(rows):
    empty = query_fingerprint(rows, "SELECT * FROM t WHERE false")
    assert empty.row_count == 0
    assert empty != query_fingerprint(rows, "SELECT id FROM t WHERE false")
    assert table_fingerprint(rows, pa.table({"id": pa.array([], pa.int64())})).row_count == 0
