from __future__ import annotations

import dataclasses
import json
import re

import pytest

from genesis_sql.errors import LineageError, LineageVerificationError
from genesis_sql.lineage import BlockDraft, Checkpoint, InclusionProof, LineageBlock, LineageChain
from genesis_sql.lineage.block import ZERO_HASH


def ids(chain: LineageChain) -> list[str]:
    return [block.block_id for block in chain.blocks()]


def rewrite(con, chain: LineageChain, position: int, signer=None) -> None:
    """Edit block ``position``'s content and re-hash (and re-sign, or strip signatures) from there on."""
    blocks = list(chain.blocks())
    previous = blocks[position - 1].hash if position else ZERO_HASH
    for block in blocks[position:]:
        payload = {**block.payload, "rewritten": True} if block.seq == position else block.payload
        draft = BlockDraft(block.block_type, payload, block.data_hash, block.block_id)
        new = LineageBlock.build(draft, seq=block.seq, previous_hash=previous, timestamp=block.timestamp)
        if signer is not None:
            new = dataclasses.replace(new, signature=signer.sign_block_hash(new.hash))
        con.execute("UPDATE genesis.lineage SET content = ?, previous_hash = ?, hash = ?, signature = ? WHERE seq = ?",
                    [new.content, new.previous_hash, new.hash, new.signature, new.seq])
        previous = new.hash


def test_the_first_block_is_a_genesis_block_with_a_zero_previous_hash(con):
    chain = LineageChain(con)
    assert chain.verify().reason == "intact, empty"
    block = chain.add_transform_block("clean", {"drop": ["x"]})
    rows = con.sql("SELECT seq, block_type, previous_hash FROM genesis.lineage ORDER BY seq").fetchall()
    genesis = next(chain.blocks())
    assert rows == [(0, "genesis", ZERO_HASH), (1, "transform", genesis.hash)]
    assert block.previous_hash == genesis.hash and block.seq == 1
    assert con.sql("SELECT content FROM genesis.lineage WHERE seq = 1").fetchall()[0][0] == block.content


def test_unsigned_chain_reasons(make_chain, signer):
    unsigned = make_chain(3)
    assert unsigned.verify() == unsigned.verify(trusted_key=None)
    assert unsigned.verify().reason == "intact, unsigned"
    report = unsigned.verify(trusted_key=signer.public_key)
    assert not report.ok and report.first_bad_block == ids(unsigned)[0]
    assert "it is not signed, but a trusted key was given" in report.reason


def test_signed_chain_reasons(con, make_chain, signer, attacker):
    signed = make_chain(3, signer)
    assert signed.verify().reason == "hashes intact, signer not pinned"
    assert signed.verify(trusted_key=signer.public_key).reason == (
        f"intact, signed by trusted key {signer.public_key.fingerprint}")
    wrong = signed.verify(trusted_key=attacker.public_key)
    assert not wrong.ok and wrong.first_bad_block == ids(signed)[0]
    assert "not by the trusted key" in wrong.reason


def test_with_a_trusted_key_every_block_must_be_signed_by_it(con, signer):
    LineageChain(con, signer=signer).add_transform_block("signed")
    late = LineageChain(con).add_transform_block("written without GENESIS_LINEAGE_KEY")
    assert LineageChain(con).verify().reason == "hashes intact, signer not pinned"
    report = LineageChain(con).verify(trusted_key=signer.public_key)
    assert report.first_bad_block == late.block_id and "it is not signed" in report.reason


def test_verification_hashes_the_stored_bytes(con, make_chain):
    chain = make_chain(5)
    victim = ids(chain)[3]
    content = con.sql(f"SELECT content FROM genesis.lineage WHERE block_id = '{victim}'").fetchall()[0][0]
    same_json = json.dumps(json.loads(content), indent=1)
    con.execute("UPDATE genesis.lineage SET content = ? WHERE block_id = ?", [same_json, victim])
    report = chain.verify()
    assert not report.ok and report.first_bad_block == victim
    assert "stored hash does not match its fields" in report.reason
    with pytest.raises(LineageVerificationError, match=f"failed verification at block {victim}"):
        report.raise_if_failed()


def test_export_load_round_trip_keeps_verification(con, make_chain, signer, tmp_path):
    chain = make_chain(20, signer)
    head = chain.checkpoint(signer=signer)
    path = tmp_path / "chain.jsonl"
    assert chain.export(path) == 21
    loaded = LineageChain.load(path, trusted_key=signer.public_key, checkpoint=head)
    assert list(loaded.blocks()) == list(chain.blocks())
    assert loaded.verify(trusted_key=signer.public_key) == chain.verify(trusted_key=signer.public_key)


def test_a_tampered_export_fails_naming_the_block(con, make_chain, tmp_path):
    chain = make_chain(10)
    path = tmp_path / "chain.jsonl"
    chain.export(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    victim = json.loads(lines[6])
    lines[6] = lines[6].replace('\\"i\\":5', '\\"i\\":6')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LineageVerificationError, match=re.escape(f"failed verification at block {victim['block_id']}")):
        LineageChain.load(path)
    lines[6] = "{broken"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LineageVerificationError, match="at line 7"):
        LineageChain.load(path)


def test_truncation_verifies_alone_but_fails_against_a_checkpoint(con, make_chain):
    chain = make_chain(30)
    head = chain.checkpoint()
    con.execute("DELETE FROM genesis.lineage WHERE seq >= 27")
    assert chain.verify().ok
    report = chain.verify(checkpoint=head)
    assert not report.ok and report.first_bad_block == "seq 27 (missing)"
    assert "has 27 blocks but the checkpoint covers 31" in report.reason


def test_a_rewritten_and_rehashed_chain_verifies_alone_but_fails_against_a_checkpoint(con, make_chain):
    chain = make_chain(30)
    head = chain.checkpoint()
    rewrite(con, chain, 12)
    assert chain.verify().reason == "intact, unsigned"
    report = chain.verify(checkpoint=head)
    assert not report.ok and report.first_bad_block == ids(chain)[30]
    assert "rewritten at or before this block" in report.reason


def test_a_chain_re_signed_with_another_key_fails_against_the_pinned_key_or_the_checkpoint(
        con, make_chain, signer, attacker):
    chain = make_chain(30, signer)
    head = chain.checkpoint(signer=signer)
    rewrite(con, chain, 0, signer=attacker)
    assert chain.verify().reason == "hashes intact, signer not pinned"
    assert chain.verify(trusted_key=signer.public_key).first_bad_block == ids(chain)[0]
    assert not chain.verify(checkpoint=head).ok


def test_blocks_after_the_checkpoint_are_reported(con, make_chain):
    chain = make_chain(5)
    head = chain.checkpoint()
    chain.add_transform_block("later")
    assert chain.verify(checkpoint=head).reason == (
        "intact, unsigned; matches the checkpoint of 6 blocks (1 newer block is protected by the hash chain only)")


def test_inclusion_proofs_verify_offline(con, make_chain, signer, attacker, tmp_path):
    chain = make_chain(40, signer)
    head = chain.checkpoint(signer=signer)
    chain.add_transform_block("after the checkpoint")
    for block_id in ids(chain)[:41:7]:
        path = tmp_path / "proof.json"
        path.write_text(chain.prove(block_id, head).to_json())
        InclusionProof.load(path).verify(trusted_key=signer.public_key)
    with pytest.raises(LineageVerificationError, match="not by the trusted key"):
        InclusionProof.load(path).verify(trusted_key=attacker.public_key)
    with pytest.raises(LineageError, match="newer than the checkpoint"):
        chain.prove(ids(chain)[-1], head)
    with pytest.raises(LineageError, match="No lineage block has the id 'nope'"):
        chain.prove("nope", head)


def test_a_forged_proof_fails(con, make_chain, signer):
    chain = make_chain(10, signer)
    head = chain.checkpoint(signer=signer)
    proof = chain.prove(ids(chain)[4], head)
    forged_block = dataclasses.replace(proof.block, content=proof.block.content.replace("4", "5"))
    with pytest.raises(LineageVerificationError, match="does not match its fields"):
        InclusionProof(forged_block, proof.audit_path, head).verify()
    other = chain.prove(ids(chain)[5], head)
    with pytest.raises(LineageVerificationError, match="audit path does not lead"):
        InclusionProof(proof.block, other.audit_path, head).verify()


def test_consistency_proofs_between_checkpoints(con, make_chain, signer):
    chain = make_chain(10, signer)
    old = chain.checkpoint(signer=signer)
    for i in range(7):
        chain.add_transform_block("more", {"i": i})
    new = chain.checkpoint(signer=signer)
    chain.prove_consistency(old, new).verify(trusted_key=signer.public_key)
    rewrite(con, chain, 3, signer=signer)
    rewritten = chain.checkpoint(signer=signer)
    with pytest.raises(LineageVerificationError, match="not a prefix"):
        chain.prove_consistency(old, rewritten)


def test_a_checkpoint_is_refused_for_a_broken_chain(con, make_chain):
    chain = make_chain(3)
    con.execute("UPDATE genesis.lineage SET timestamp = 'x' WHERE seq = 2")
    with pytest.raises(LineageVerificationError, match="at block"):
        chain.checkpoint()


def test_a_checkpoint_signature_problem_is_reported_before_the_chain(con, make_chain, signer):
    chain = make_chain(3)
    head = chain.checkpoint()
    report = chain.verify(checkpoint=head, trusted_key=signer.public_key)
    assert not report.ok and report.first_bad_block is None
    assert report.reason == "the checkpoint is not signed, but a trusted key was given"
    assert Checkpoint.from_json(head.to_json()) == head
