"""The acceptance mutation test: every kind of tampering is detected, and the report names the first bad block."""
from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest

from genesis_sql.lineage import BlockDraft, LineageBlock, VerificationReport, verify, verify_batches
from genesis_sql.lineage.block import COLUMNS, ZERO_HASH
from genesis_sql.lineage.store import read_hashed

BLOCKS = 200
MUTATIONS = 1000
KINDS = ("content", "hash", "previous_hash", "timestamp", "signature", "reorder", "delete", "insert",
         "truncate", "resign")


def edit_char(text: str, rng: random.Random, alphabet: str) -> str:
    """``text`` with one character replaced by a different one."""
    index = rng.randrange(len(text))
    replacement = rng.choice([c for c in alphabet if c != text[index]])
    return text[:index] + replacement + text[index + 1:]


def insert(row: tuple) -> tuple[str, list]:
    return f"INSERT INTO genesis.lineage VALUES ({', '.join('?' for _ in COLUMNS)})", list(row)


def mutate(blocks: list[LineageBlock], kind: str, rng: random.Random, attacker) -> tuple[list[tuple[str, list]], str]:
    """The SQL statements of one mutation of the stored chain, and the block verification must name."""
    position = rng.randrange(len(blocks))
    victim = blocks[position]
    if kind in ("content", "hash", "previous_hash", "timestamp", "signature"):
        alphabet = 'abcxyz019{}":,é ' if kind == "content" else "0123456789abcdefABCDEF:x"
        edited = edit_char(getattr(victim, kind), rng, alphabet)
        return [(f"UPDATE genesis.lineage SET {kind} = ? WHERE seq = ?", [edited, position])], victim.block_id
    if kind == "reorder":
        i, j = sorted(rng.sample(range(len(blocks)), 2))
        swapped = [(i, *blocks[j].as_row()[1:]), (j, *blocks[i].as_row()[1:])]
        return [("DELETE FROM genesis.lineage WHERE seq IN (?, ?)", [i, j])] + [insert(r) for r in swapped], \
            blocks[j].block_id
    if kind == "delete" and position < len(blocks) - 1:
        statements = [("DELETE FROM genesis.lineage WHERE seq = ?", [position])]
        if rng.random() < 0.5:
            statements.append(("UPDATE genesis.lineage SET seq = seq - 1 WHERE seq > ?", [position]))
        return statements, blocks[position + 1].block_id
    if kind in ("delete", "truncate"):
        keep = position if kind == "truncate" else len(blocks) - 1
        return [("DELETE FROM genesis.lineage WHERE seq >= ?", [keep])], f"seq {keep} (missing)"
    if kind == "insert":
        at = rng.randrange(len(blocks) + 1)
        previous = blocks[at - 1].hash if at else ZERO_HASH
        draft = BlockDraft("genesis" if at == 0 else "transform", {"forged": True})
        forged = LineageBlock.build(draft, seq=at, previous_hash=previous, timestamp=blocks[-1].timestamp)
        if rng.random() < 0.5:
            forged = dataclasses.replace(forged, signature=attacker.sign_block_hash(forged.hash))
        return [("UPDATE genesis.lineage SET seq = seq + 1 WHERE seq >= ?", [at]), insert(forged.as_row())], \
            forged.block_id
    # "resign": edit one block, re-hash the whole chain from there and re-sign all of it with another key.
    previous, rows = ZERO_HASH, []
    for block in blocks:
        payload = {**block.payload, "rewritten": True} if block.seq == position else block.payload
        draft = BlockDraft(block.block_type, payload, block.data_hash, block.block_id)
        new = LineageBlock.build(draft, seq=block.seq, previous_hash=previous, timestamp=block.timestamp)
        rows.append(dataclasses.replace(new, signature=attacker.sign_block_hash(new.hash)).as_row())
        previous = new.hash
    table = pa.Table.from_arrays([pa.array(column) for column in zip(*rows)], names=list(COLUMNS))
    return [("DELETE FROM genesis.lineage", []), ("INSERT INTO genesis.lineage SELECT * FROM resigned", table)], \
        blocks[0].block_id


def missed_mutations(con, blocks: list[LineageBlock], attacker, mutations: int, seed: int,
                     verify_chain) -> list[tuple]:
    """Apply random mutations one at a time, each rolled back after ``verify_chain()`` has checked it; returns
    (kind, expected first bad block, report) for each mutation that was missed or misplaced."""
    rng = random.Random(seed)
    missed = []
    for number in range(mutations):
        kind = KINDS[number % len(KINDS)]
        statements, expected = mutate(blocks, kind, rng, attacker)
        con.execute("BEGIN TRANSACTION")
        try:
            for sql, params in statements:
                if isinstance(params, pa.Table):
                    con.register("resigned", params)
                    params = []
                con.execute(sql, params)
            report = verify_chain()
        finally:
            con.execute("ROLLBACK")
        if report.ok or report.first_bad_block != expected:
            missed.append((kind, expected, report))
    return missed


@pytest.mark.slow
def test_a_thousand_random_mutations_are_all_detected_and_located(con, make_chain, signer, attacker):
    chain = make_chain(BLOCKS, signer)
    head = chain.checkpoint(signer=signer)
    blocks = list(chain.blocks())
    assert len(blocks) == BLOCKS + 1
    assert chain.verify(trusted_key=signer.public_key, checkpoint=head).ok
    missed = missed_mutations(con, blocks, attacker, MUTATIONS, 6,
                              lambda: chain.verify(trusted_key=signer.public_key, checkpoint=head))
    assert not missed, f"{len(missed)} of {MUTATIONS} mutations missed or misplaced, e.g. {missed[:3]}"
    assert chain.verify(trusted_key=signer.public_key, checkpoint=head).ok


def test_small_batches_and_signature_chunks_find_the_same_first_bad_block(con, make_chain, signer, attacker,
                                                                         monkeypatch):
    """Batch, chunk and queue boundaries fall inside the chain: every carry between them is exercised."""
    monkeypatch.setattr(verify, "_CHUNK", 3)
    monkeypatch.setattr(verify, "_QUEUED_PER_WORKER", 1)
    chain = make_chain(40, signer)
    head = chain.checkpoint(signer=signer)
    missed = missed_mutations(con, list(chain.blocks()), attacker, 100, 7, lambda: verify.verify_hashed(
        read_hashed(con, batch_size=7), trusted_key=signer.public_key, checkpoint=head, workers=2))
    assert not missed, f"{len(missed)} of 100 mutations missed or misplaced, e.g. {missed[:3]}"


def test_a_bad_signature_is_reported_before_a_checkpoint_mismatch_on_the_same_block(make_chain, attacker):
    chain = make_chain(4)
    head = chain.checkpoint()
    rows, previous = [], ZERO_HASH
    for block in chain.blocks():
        draft = BlockDraft(block.block_type, {**block.payload, "rewritten": True}, block.data_hash, block.block_id)
        new = LineageBlock.build(draft, seq=block.seq, previous_hash=previous, timestamp=block.timestamp)
        rows.append(dataclasses.replace(new, signature=attacker.sign_block_hash(new.hash)).as_row())
        previous = new.hash
    rewritten = verify_batches([rows], checkpoint=head)
    assert rewritten.first_bad_block == rows[-1][1] and "checkpoint's root" in rewritten.reason
    rows[-1] = (*rows[-1][:8], attacker.sign_block_hash(rows[-2][7]))
    both = verify_batches([rows], checkpoint=head)
    assert both.first_bad_block == rows[-1][1] and "signature does not verify" in both.reason


def test_verify_batches_works_on_rows_from_anywhere(make_chain, signer):
    chain = make_chain(10, signer)
    rows = [block.as_row() for block in chain.blocks()]
    whole = verify_batches([rows], trusted_key=signer.public_key)
    split = verify_batches([rows[:3], rows[3:4], rows[4:]], trusted_key=signer.public_key, workers=3)
    assert whole == split == VerificationReport(True, 11, None, whole.reason)
    bad = list(rows[7])
    bad[8] = signer.sign_block_hash(rows[6][7])
    report = verify_batches([rows[:3], rows[3:7], [tuple(bad)], rows[8:]], trusted_key=signer.public_key)
    assert (report.ok, report.blocks, report.first_bad_block) == (False, 11, rows[7][1])
    assert "signature does not verify" in report.reason


def test_the_earliest_failure_wins_across_batches(make_chain, signer):
    rows = [block.as_row() for block in make_chain(30, signer).blocks()]
    signature_broken = list(rows[5])
    signature_broken[8] = signer.sign_block_hash(rows[4][7])
    hash_broken = list(rows[20])
    hash_broken[7] = "0" * 64
    rows[5], rows[20] = tuple(signature_broken), tuple(hash_broken)
    for size in (1, 4, 16, 64):
        batches = [rows[i:i + size] for i in range(0, len(rows), size)]
        assert verify_batches(batches, trusted_key=signer.public_key).first_bad_block == rows[5][1]


def test_a_verification_that_raises_leaves_the_connection_usable(make_chain, signer, monkeypatch):
    chain = make_chain(3, signer)

    def broken(*args):
        raise RuntimeError("a worker failed")

    monkeypatch.setattr(verify._Signatures, "check", broken)
    with pytest.raises(RuntimeError) as raised:
        chain.verify(trusted_key=signer.public_key)
    assert raised.traceback and len(chain) == 4
