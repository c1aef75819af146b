from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli
from genesis_sql.lineage import Checkpoint, LineageChain, Signer, table_fingerprint


@pytest.fixture
def run(db_path):
    """Invoke ``genesis --db DB lineage ARGS...``."""
    def invoke(*args: str, db: str = str(db_path)):
        return CliRunner().invoke(cli, ["--db", db, "lineage", *args])

    return invoke


@pytest.fixture
def keys(tmp_path):
    """(secret, public) key files written by ``genesis lineage keygen``."""
    result = CliRunner().invoke(cli, ["lineage", "keygen", str(tmp_path / "lineage.key")])
    assert result.exit_code == 0, result.output
    assert "export GENESIS_LINEAGE_KEY=" in result.output and "--trusted-key" in result.output
    return tmp_path / "lineage.key", tmp_path / "lineage.key.pub"


def write_chain(db_path, blocks: int, signer: Signer | None = None) -> list[str]:
    """Append ``blocks`` blocks to the database file (closed afterwards); returns every block id."""
    with duckdb.connect(str(db_path)) as con:
        chain = LineageChain(con, signer=signer)
        for i in range(blocks):
            chain.add_transform_block("step", {"i": i})
        return [b.block_id for b in chain.blocks()]


def test_verify_exits_zero_when_intact_and_names_the_first_bad_block(run, db_path):
    ids = write_chain(db_path, 3)
    result = run("verify")
    assert result.exit_code == 0 and result.output == "ok: 4 blocks, intact, unsigned\n"
    with duckdb.connect(str(db_path)) as con:
        con.execute("UPDATE genesis.lineage SET data_hash = 'x' WHERE block_id = ?", [ids[2]])
    result = run("verify")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"LineageVerificationError: The lineage chain failed verification at block {ids[2]}" in result.output


def test_keygen_checkpoint_verify_and_prove_with_a_pinned_key(run, db_path, keys, tmp_path, monkeypatch):
    secret, public = keys
    monkeypatch.setenv("GENESIS_LINEAGE_KEY", str(secret))
    ids = write_chain(db_path, 5, Signer.load(secret))
    assert run("verify").output == "ok: 6 blocks, hashes intact, signer not pinned\n"
    checkpoint = run("checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    (tmp_path / "cp.json").write_text(checkpoint.stdout)
    assert Checkpoint.load(tmp_path / "cp.json").tree_size == 6
    pinned = run("verify", "--checkpoint", str(tmp_path / "cp.json"), "--trusted-key", str(public))
    assert pinned.exit_code == 0 and "intact, signed by trusted key" in pinned.output
    proof = run("prove", ids[3], "--checkpoint", str(tmp_path / "cp.json"))
    assert proof.exit_code == 0, proof.output
    (tmp_path / "proof.json").write_text(proof.stdout)
    offline = CliRunner().invoke(cli, ["lineage", "verify-proof", str(tmp_path / "proof.json"), "--trusted-key",
                                       str(public)])
    assert offline.exit_code == 0 and f"block {ids[3]} is leaf 3 of the checkpoint of 6 blocks" in offline.output
    with duckdb.connect(str(db_path)) as con:
        con.execute("DELETE FROM genesis.lineage WHERE seq = 5")
    truncated = run("verify", "--checkpoint", str(tmp_path / "cp.json"))
    assert truncated.exit_code == 1 and "at block seq 5 (missing)" in truncated.output


def test_keygen_refuses_to_overwrite(keys):
    again = CliRunner().invoke(cli, ["lineage", "keygen", str(keys[0])])
    assert again.exit_code == 1 and "is never overwritten" in again.output


def test_export_show_and_openlineage(run, db_path, tmp_path):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.execute("CREATE TABLE t AS SELECT range AS id, range % 5 AS k FROM range(100)")
        genesis_sql.fit(con, "things", "SELECT * FROM t", seed=0)
        genesis_sql.generate(con, "things", 10, seed=3)
    exported = run("export", str(tmp_path / "chain.jsonl"))
    assert exported.exit_code == 0 and exported.output == f"exported 4 blocks to {tmp_path / 'chain.jsonl'}\n"
    assert LineageChain.load(tmp_path / "chain.jsonl").verify().blocks == 4
    shown = run("show", "things")
    assert shown.exit_code == 0 and shown.output.splitlines()[0].startswith("things: 1 sources")
    as_json = json.loads(run("show", "things", "--json").stdout)
    assert as_json["generations"][0]["content"]["seed"] == 3
    events = [json.loads(line) for line in run("openlineage", "things").stdout.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "COMPLETE"]


def test_generate_out_records_the_written_rows(db_path, tmp_path):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.execute("CREATE TABLE t AS SELECT range AS id, range % 5 AS k FROM range(100)")
        genesis_sql.fit(con, "things", "SELECT * FROM t", seed=0)
    out = tmp_path / "things.csv"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "generate", "things", "25", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        [generation] = [b for b in LineageChain(con).blocks() if b.block_type == "generation"]
        expected = table_fingerprint(con, genesis_sql.generate(con, "things", 25, seed=4))
    assert generation.payload["destination"] == str(out)
    assert (generation.payload["row_count"], generation.payload["rows_hash"]) == (25, expected.rows_hash)


def test_a_database_without_genesis_is_a_one_line_error(run, tmp_path):
    with duckdb.connect(str(tmp_path / "plain.duckdb")):
        pass
    result = run("verify", db=str(tmp_path / "plain.duckdb"))
    assert result.exit_code == 1 and "CatalogError" in result.output and "Traceback" not in result.output
