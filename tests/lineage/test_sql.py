from __future__ import annotations

import duckdb
import pytest

import genesis_sql
from genesis_sql.lineage import LineageChain


@pytest.fixture
def sql(con):
    return genesis_sql.install(con)


def test_verify_returns_one_row_with_the_contract_columns(sql, make_chain):
    assert sql.sql("SELECT * FROM genesis_lineage_verify()").fetchall() == [(True, 0, None, "intact, empty")]
    make_chain(4)
    result = sql.sql("SELECT * FROM genesis_lineage_verify()")
    assert result.columns == ["ok", "blocks", "first_bad_block", "reason"]
    assert [str(t) for t in result.types] == ["BOOLEAN", "BIGINT", "VARCHAR", "VARCHAR"]
    assert result.fetchall() == [(True, 5, None, "intact, unsigned")]
    assert sql.sql("SELECT block_type, count(*) FROM genesis.lineage GROUP BY ALL ORDER BY 1").fetchall() == [
        ("genesis", 1), ("transform", 4)]


def test_verify_names_the_first_bad_block(sql, make_chain):
    chain = make_chain(6)
    victim = [b.block_id for b in chain.blocks()][3]
    sql.execute("UPDATE genesis.lineage SET timestamp = '2000-01-01T00:00:00.000000Z' WHERE block_id = ?", [victim])
    ok, blocks, first_bad, reason = sql.sql("SELECT * FROM genesis_lineage_verify()").fetchall()[0]
    assert (ok, blocks, first_bad) == (False, 7, victim)
    assert "does not match its fields" in reason


def test_checkpoint_and_trusted_key_arguments(sql, make_chain, signer, attacker, tmp_path, monkeypatch):
    chain = make_chain(5, signer)
    checkpoint = tmp_path / "cp.json"
    checkpoint.write_text(chain.checkpoint(signer=signer).to_json())
    _, public = signer.write(tmp_path / "k")
    row = sql.execute("SELECT * FROM genesis_lineage_verify(checkpoint := ?, trusted_key := ?)",
                      [str(checkpoint), str(public)]).fetchall()[0]
    assert row[0] and row[3].endswith("matches the checkpoint of 6 blocks")
    sql.execute("DELETE FROM genesis.lineage WHERE seq = 5")
    assert sql.execute("SELECT first_bad_block FROM genesis_lineage_verify(checkpoint := ?)",
                       [str(checkpoint)]).fetchall() == [("seq 5 (missing)",)]
    monkeypatch.setenv("GENESIS_LINEAGE_PUBKEY", attacker.public_key.hex)
    assert "not by the trusted key" in sql.sql("SELECT reason FROM genesis_lineage_verify()").fetchall()[0][0]


def test_errors_carry_the_genesis_error_name(sql):
    with pytest.raises(duckdb.Error, match="LineageError: Cannot read the checkpoint file"):
        sql.sql("SELECT * FROM genesis_lineage_verify(checkpoint := '/no/such/cp.json')").fetchall()


def test_install_is_idempotent_and_cursors_see_the_function(sql, make_chain):
    genesis_sql.install(sql)
    make_chain(2)
    cursor = sql.cursor()
    assert cursor.sql("SELECT ok, blocks FROM genesis_lineage_verify()").fetchall() == [(True, 3)]
    cursor.close()
    assert LineageChain(sql).verify().ok
