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


# --- transactions (issue 12 item 4): lineage commits or rolls back with the statement's transaction ---

CTAS = "CREATE TABLE {name} AS SELECT * FROM genesis_generate('t', 300, seed := 2) WHERE a > 5"


def _blocks_for(gcon, table: str) -> list[dict]:
    return [b for b in _generation_blocks(gcon) if b["destination"] == table]


def _verifies(gcon) -> bool:
    return gcon.sql("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]


@pytest.mark.parametrize("style", ["statement by statement", "one text", "begin() and commit()"])
def test_create_table_as_in_a_committed_transaction_leaves_one_block(shop, style: str) -> None:
    gcon, _ = shop
    if style == "statement by statement":
        for statement in ("BEGIN", CTAS.format(name="tx"), "COMMIT"):
            gcon.execute(statement)
    elif style == "one text":
        gcon.execute(f"BEGIN TRANSACTION; {CTAS.format(name='tx')}; COMMIT;")
    else:
        gcon.begin()
        gcon.execute(CTAS.format(name="tx"))
        gcon.commit()
    assert gcon.sql("SELECT count(*), min(a) FROM tx").fetchall() == [(300, 6)]
    blocks = _blocks_for(gcon, "tx")
    assert len(blocks) == 1 and blocks[0]["row_count"] == 300 and blocks[0]["conditions"] == '"a" > 5'
    assert _verifies(gcon)


def test_a_rolled_back_create_table_as_leaves_no_block(shop) -> None:
    gcon, _ = shop
    before = _generation_blocks(gcon)
    gcon.execute("BEGIN")
    gcon.execute(CTAS.format(name="tx"))
    assert gcon.sql("SELECT count(*) FROM tx").fetchall() == [(300,)]  # visible inside the transaction
    gcon.execute("ROLLBACK")
    assert gcon.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tx'").fetchall() == [(0,)]
    assert _generation_blocks(gcon) == before and _verifies(gcon)


def test_a_failing_statement_inside_the_transaction_leaves_no_block(shop) -> None:
    """DuckDB rolls the whole transaction back at COMMIT once a statement failed in it."""
    gcon, _ = shop
    before = _generation_blocks(gcon)
    gcon.execute("BEGIN")
    gcon.execute(CTAS.format(name="tx"))
    with pytest.raises(duckdb.CatalogException):
        gcon.execute("SELECT * FROM no_such_table")
    gcon.execute("COMMIT")
    assert gcon.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tx'").fetchall() == [(0,)]
    assert _generation_blocks(gcon) == before and _verifies(gcon)


def test_create_temp_table_as_works_and_records_its_block(shop) -> None:
    gcon, _ = shop
    gcon.execute(CTAS.format(name="tt").replace("CREATE TABLE", "CREATE TEMP TABLE"))
    assert gcon.sql("SELECT count(*), min(a) FROM tt").fetchall() == [(300, 6)]
    assert len(_blocks_for(gcon, "tt")) == 1 and _verifies(gcon)


def test_create_table_if_not_exists_on_an_existing_table_records_nothing(shop) -> None:
    gcon, _ = shop
    statement = CTAS.format(name="IF NOT EXISTS kept")
    gcon.execute(statement)
    assert len(_blocks_for(gcon, "kept")) == 1
    gcon.execute(statement)
    assert len(_blocks_for(gcon, "kept")) == 1
    assert gcon.sql("SELECT count(*) FROM kept").fetchall() == [(300,)]


def test_create_table_as_over_genesis_query_records_the_pushed_generation(shop) -> None:
    gcon, _ = shop
    gcon.execute("CREATE TABLE via_query AS SELECT * FROM genesis_query("
                 "'SELECT * FROM genesis_generate(''t'', 200, seed := 1) WHERE b = 2')")
    assert gcon.sql("SELECT count(*), min(b), max(b) FROM via_query").fetchall() == [(200, 2, 2)]
    blocks = _blocks_for(gcon, "via_query")
    assert len(blocks) == 1 and blocks[0]["conditions"] == '"b" = 2' and blocks[0]["row_count"] == 200


def test_statements_without_a_generator_go_to_duckdb_untouched(shop) -> None:
    gcon, _ = shop
    gcon.execute("CREATE TABLE plain AS SELECT 1 AS x; INSERT INTO plain VALUES (2)")
    assert gcon.execute("SELECT * FROM plain ORDER BY x").fetchall() == [(1,), (2,)]
    assert gcon.rewrite("SELECT  *  FROM plain WHERE x > ?").sql == "SELECT  *  FROM plain WHERE x > ?"
