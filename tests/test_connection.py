"""GenesisConnection: a DuckDB connection with pushdown, lineage for materialised output, read-only use."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.errors import CatalogError


@pytest.fixture
def shop(tmp_path: Path):
    """A file with a small table and a model of it, opened through genesis_sql.connect."""
    path = tmp_path / "shop.duckdb"
    gcon = genesis_sql.connect(str(path))
    gcon.execute("CREATE TABLE t AS SELECT range % 10 AS a, range % 7 AS b FROM range(2000)")
    genesis_sql.fit(gcon.duckdb_connection, "t", "SELECT * FROM t")
    yield gcon, path
    gcon.close()


def _generation_blocks(gcon) -> list[dict]:
    rows = gcon.sql("SELECT content FROM genesis.lineage WHERE block_type = 'generation' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def test_copy_to_a_file_records_lineage_with_the_pushed_condition(shop, tmp_path: Path) -> None:
    gcon, _ = shop
    out = tmp_path / "out.parquet"
    gcon.execute(f"COPY (SELECT * FROM genesis_generate('t', 300, seed := 3) WHERE a > 5) TO '{out}' (FORMAT parquet)")
    assert duckdb.sql(f"SELECT count(*), min(a) FROM '{out}'").fetchall() == [(300, 6)]
    block = _generation_blocks(gcon)[-1]
    assert block["destination"] == str(out) and block["n"] == 300 and block["seed"] == 3
    assert block["conditions"] == '"a" > 5' and block["row_count"] == 300


def test_create_table_as_records_lineage(shop) -> None:
    gcon, _ = shop
    gcon.sql("CREATE TABLE syn AS SELECT * FROM genesis_generate('t', 50, seed := 1) WHERE b = 2")
    assert gcon.sql("SELECT count(*), min(b), max(b) FROM syn").fetchall() == [(50, 2, 2)]
    block = _generation_blocks(gcon)[-1]
    assert block["destination"] == "syn" and block["row_count"] == 50
    assert gcon.sql("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]


def test_plain_selects_record_nothing(shop) -> None:
    gcon, _ = shop
    before = len(_generation_blocks(gcon))
    gcon.sql("SELECT * FROM genesis_generate('t', 50) WHERE b = 2").fetchall()
    assert len(_generation_blocks(gcon)) == before


def test_read_only_connections_generate_after_one_writable_install(shop) -> None:
    gcon, path = shop
    expected = gcon.sql("SELECT * FROM genesis_generate('t', 20, seed := 5)").fetchall()
    gcon.close()
    reader = genesis_sql.connect(str(path), read_only=True)
    genesis_sql.install(reader.duckdb_connection)
    assert reader.sql("SELECT * FROM genesis_generate('t', 20, seed := 5)").fetchall() == expected
    reader.close()


def test_read_only_without_catalog_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.duckdb"
    duckdb.connect(str(path)).close()
    reader = duckdb.connect(str(path), read_only=True)
    with pytest.raises(CatalogError, match="open it writable once"):
        genesis_sql.install(reader)
    reader.close()


def test_a_file_named_genesis_duckdb_works_through_connect(tmp_path: Path) -> None:
    with genesis_sql.connect(str(tmp_path / "genesis.duckdb")) as gcon:
        gcon.execute("CREATE TABLE t AS SELECT range % 4 AS a FROM range(100)")
        genesis_sql.fit(gcon.duckdb_connection, "t", "SELECT * FROM t")
        assert gcon.sql("SELECT count(*) FROM genesis.models").fetchall() == [(1,)]
        assert gcon.sql("SELECT count(*) FROM genesis_generate('t', 30) WHERE a = 3").fetchall() == [(30,)]
    with pytest.raises(CatalogError, match="genesis_sql.connect"):
        genesis_sql.install(duckdb.connect(str(tmp_path / "genesis.duckdb")))
