"""The acceptance mutation test: every kind of tampering is detected, and the report names the first bad block."""
from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest

from genesis_sql.lineage import BlockDraft, LineageBlock, LineageChain, VerificationReport, verify_batches
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


def mutate(blocks: list[LineageBlock], kind: str, rng: random.Random, attacker) -> tuple[list[tuple], str]:
    """The stored rows after one mutation, and the block verification must name."""
    rows = [b.as_row() for b in blocks]
    position = rng.randrange(len(rows))
    if kind in ("content", "hash", "previous_hash", "timestamp", "signature"):
        column = COLUMNS.index(kind)
        alphabet = "0123456789abcdefABCDEF:x" if kind != "content" else 'abcxyz019{}":,é '
        row = list(rows[position])
        row[column] = edit_char(row[column], rng, alphabet)
        rows[position] = tuple(row)
        return rows, blocks[position].block_id
    if kind == "reorder":
        i, j = sorted(rng.sample(range(len(rows)), 2))
        rows[i], rows[j] = (i, *rows[j][1:]), (j, *rows[i][1:])
        return rows, blocks[j].block_id
    if kind == "delete" and position < len(rows) - 1:
        renumber = rng.random() < 0.5
        del rows[position]
        if renumber:
            rows = [(seq, *row[1:]) for seq, row in enumerate(rows)]
        return rows, blocks[position + 1].block_id
    if kind in ("delete", "truncate"):
        keep = position if kind == "truncate" else len(rows) - 1
        return rows[:keep], f"seq {keep} (missing)"
    if kind == "insert":
        at = rng.randrange(len(rows) + 1)
        previous = rows[at - 1][7] if at else ZERO_HASH
        draft = BlockDraft("genesis" if at == 0 else "transform", {"forged": True})
        forged = LineageBlock.build(draft, seq=at, previous_hash=previous, timestamp=blocks[-1].timestamp)
        if rng.random() < 0.5:
            forged = dataclasses.replace(forged, signature=attacker.sign_block_hash(forged.hash))
        shifted = [(seq + 1, *row[1:]) for seq, *row in [(r[0], *r[1:]) for r in rows[at:]]]
        return rows[:at] + [forged.as_row()] + shifted, forged.block_id
    # "resign": edit one block, re-hash the chain from there and re-sign all of it with another key.
    previous, rewritten = ZERO_HASH, []
    for block in blocks:
        payload = {**block.payload, "rewritten": True} if block.seq == position else block.payload
        draft = BlockDraft(block.block_type, payload, block.data_hash, block.block_id)
        new = LineageBlock.build(draft, seq=block.seq, previous_hash=previous, timestamp=block.timestamp)
        new = dataclasses.replace(new, signature=attacker.sign_block_hash(new.hash))
        rewritten.append(new.as_row())
        previous = new.hash
    return rewritten, blocks[0].block_id


def store_rows(con, rows: list[tuple]) -> None:
    """Replace the stored chain with ``rows`` inside the caller's transaction."""
    con.execute("DELETE FROM genesis.lineage")
    if rows:
        columns = [pa.array([row[i] for row in rows]) for i in range(len(COLUMNS))]
        con.register("mutated", pa.Table.from_arrays(columns, names=list(COLUMNS)))
        con.execute("INSERT INTO genesis.lineage SELECT * FROM mutated")
        con.unregister("mutated")


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
        rows, expected = mutate(blocks, kind, rng, attacker)
        con.execute("BEGIN TRANSACTION")
        try:
            if kind in ("content", "hash", "previous_hash", "timestamp", "signature"):
                changed = next(r for r, b in zip(rows, blocks) if r != b.as_row())
                con.execute("UPDATE genesis.lineage SET content = ?, hash = ?, previous_hash = ?, timestamp = ?, "
                            "signature = ? WHERE seq = ?", [changed[6], changed[7], changed[4], changed[3],
                                                            changed[8], changed[0]])
            else:
                store_rows(con, rows)
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
