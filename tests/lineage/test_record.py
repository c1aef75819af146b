"""Lineage is recorded automatically: fit, Python generate, CLI --out and evaluation runs each add blocks."""
from __future__ import annotations

import json

import genesis_sql
from genesis_sql.lineage import LineageChain, query_fingerprint, table_fingerprint
from genesis_sql.lineage.drafts import parameters_hash
from genesis_sql.lineage.record import record_quality


def blocks(con, block_type):
    return [b for b in LineageChain(con).blocks() if b.block_type == block_type]


def test_fit_records_its_source_and_the_model_version(shop):
    genesis_sql.fit(shop, "customers", "SELECT * FROM customers", seed=0)
    genesis_sql.fit(shop, "customers", "SELECT * FROM customers WHERE age > 30", seed=0)
    sources, fits = blocks(shop, "source"), blocks(shop, "fit")
    assert [f.payload["version"] for f in fits] == [1, 2]
    source, fit = sources[1].payload, fits[1].payload
    expected = query_fingerprint(shop, "SELECT * FROM customers WHERE age > 30")
    assert (source["query"], source["row_count"], source["rows_hash"]) == (
        "SELECT * FROM customers WHERE age > 30", expected.row_count, expected.rows_hash)
    assert sources[1].data_hash == expected.rows_hash
    stored = shop.sql("SELECT content_hash, parameters FROM genesis.models WHERE version = 2").fetchall()[0]
    assert fit["content_hash"] == stored[0] == fits[1].data_hash
    assert fit["parameters_hash"] == parameters_hash(json.loads(stored[1]))
    assert fit["source_block"] == sources[1].block_id and fits[1].seq == sources[1].seq + 1
    assert fit["model"] == source["model"] == "customers"
    assert LineageChain(shop).verify().reason == "intact, unsigned"


def test_python_generate_records_the_request_and_a_hash_of_the_rows(shop):
    genesis_sql.fit(shop, "customers", "SELECT * FROM customers", seed=0)
    table = genesis_sql.generate(shop, "customers", 50, seed=7, condition="age > 40")
    [generation] = blocks(shop, "generation")
    data = generation.payload
    assert (data["n"], data["seed"], data["version"], data["destination"]) == (50, 7, 1, "python")
    assert data["conditions"] == '"age" > 40'  # the canonical condition, as the generator saw it
    assert data["rows_hash"] == table_fingerprint(shop, table).rows_hash == generation.data_hash
    same = query_fingerprint(shop, "SELECT * FROM genesis_generate('customers', 50, seed := 7, condition := 'age > 40')")
    assert same.rows_hash == data["rows_hash"]


def test_recorded_blocks_are_signed_when_a_key_is_set(shop, signer, tmp_path, monkeypatch):
    secret, public = signer.write(tmp_path / "lineage.key")
    monkeypatch.setenv("GENESIS_LINEAGE_KEY", str(secret))
    genesis_sql.fit(shop, "customers", "SELECT * FROM customers", seed=0)
    genesis_sql.generate(shop, "customers", 10, seed=1)
    record_quality(shop, run_id="run-1", model="customers", version=1, metrics={"overall": 0.91}, passed=True)
    chain = LineageChain(shop)
    assert all(b.signature for b in chain.blocks())
    assert chain.verify(trusted_key=signer.public_key).ok
    [quality] = blocks(shop, "quality")
    assert quality.payload == {"metrics": {"overall": 0.91}, "model": "customers", "passed": True,
                               "run_id": "run-1", "version": 1}
