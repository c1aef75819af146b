"""The acceptance mutation test: every kind of tampering is detected, and the report names the first bad block."""
from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest

from genesis_sql.lineage import BlockDraft, LineageBlock, VerificationReport, verify_batches
from genesis_sql.lineage.block import COLUMNS, ZERO_HASH

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


@pytest.mark.slow
def test_a_thousand_random_mutations_are_all_detected_and_located(con, make_chain, signer, attacker):
    chain = make_chain(BLOCKS, signer)
    head = chain.checkpoint(signer=signer)
    blocks = list(chain.blocks())
    assert len(blocks) == BLOCKS + 1
    assert chain.verify(trusted_key=signer.public_key, checkpoint=head).ok
    rng = random.Random(6)
    missed = []
    for number in range(MUTATIONS):
        kind = KINDS[number % len(KINDS)]
        statements, expected = mutate(blocks, kind, rng, attacker)
        con.execute("BEGIN TRANSACTION")
        try:
            for sql, params in statements:
                if isinstance(params, pa.Table):
                    con.register("resigned", params)
                    params = []
                con.execute(sql, params)
            report = chain.verify(trusted_key=signer.public_key, checkpoint=head)
        finally:
            con.execute("ROLLBACK")
        if report.ok or report.first_bad_block != expected:
            missed.append((kind, expected, report))
    assert not missed, f"{len(missed)} of {MUTATIONS} mutations missed or misplaced, e.g. {missed[:3]}"
    assert chain.verify(trusted_key=signer.public_key, checkpoint=head).ok


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
