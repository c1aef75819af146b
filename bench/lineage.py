"""Benchmark: verifying a 100,000-block lineage chain, with and without Ed25519 signatures, and a proof.

    .venv/bin/python bench/lineage.py [--blocks 100000]

Targets (issue 6): hash-chain verification at >= 50,000 blocks/s; with every block's Ed25519 signature
checked against a pinned key, >= 15,000 blocks/s; an inclusion proof for one block verified in < 1 ms.

The chains are built in a temporary DuckDB file (bulk-inserted, then read back by ``LineageChain.verify``
exactly as ``genesis lineage verify`` does). Baselines run in the same process over the same data:
reading the rows from DuckDB into Python alone, reading them as Arrow with every block's hash recomputed
by DuckDB (the first step of verification, ``store.read_hashed``) alone, SHA-256 of each block's stored
content alone, and PyNaCl verifying the same signatures on one thread and on as many threads as
verification uses (one per CPU). On a shared machine, compare the ratios: the absolute rates move with
the load, which the header and the last line print (1-minute load average). Exit code 0 when every
target holds.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import nacl.bindings
import pyarrow as pa

import genesis_sql
from genesis_sql.lineage import BlockDraft, LineageBlock, LineageChain, Signer
from genesis_sql.lineage.block import COLUMNS, ZERO_HASH
from genesis_sql.lineage.merkle import leaf_hash, verify_inclusion
from genesis_sql.lineage.signing import block_message, parse_signature
from genesis_sql.lineage.store import GENESIS_CONTENT, read_batches, read_hashed

HASH_TARGET, SIGNED_TARGET, PROOF_TARGET_MS = 50_000, 15_000, 1.0


def build_rows(blocks: int, signer: Signer) -> list[tuple]:
    """A valid signed chain of ``blocks`` blocks (genesis first), as stored rows."""
    rows, previous = [], ZERO_HASH
    for seq in range(blocks):
        if seq == 0:
            draft = BlockDraft("genesis", GENESIS_CONTENT)
        else:
            draft = BlockDraft("generation", {"model": f"m{seq % 7}", "version": 1 + seq % 3, "n": 1000 + seq,
                                              "seed": seq, "conditions": "\"age\" > 50" if seq % 2 else None,
                                              "rows_hash": hashlib.sha256(str(seq).encode()).hexdigest()})
        block = LineageBlock.build(draft, seq=seq, previous_hash=previous,
                                   timestamp=f"2025-01-01T00:00:{seq % 60:02d}.{seq % 1_000_000:06d}Z")
        block = dataclasses.replace(block, signature=signer.sign_block_hash(block.hash))
        rows.append(block.as_row())
        previous = block.hash
    return rows


def store(path: Path, rows: list[tuple]) -> None:
    """A DuckDB file with the genesis catalog holding ``rows`` as its chain."""
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.register("chain", pa.Table.from_arrays([pa.array(c) for c in zip(*rows)], names=list(COLUMNS)))
        con.execute("INSERT INTO genesis.lineage SELECT * FROM chain")


def check_all(triples: list[tuple[bytes, bytes, bytes]]) -> int:
    """Verify (signature, message, key) triples with PyNaCl alone: the signature baseline."""
    for signature, message, key in triples:
        nacl.bindings.crypto_sign_open(signature + message, key)
    return len(triples)


def timed(label: str, count: int, run: Callable[[], object]) -> tuple[float, object]:
    """Run once, print the time and rate; returns (items per second, what ``run`` returned)."""
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    rate = count / seconds
    print(f"  {label:<58} {seconds:7.2f} s  {rate:>10,.0f} /s")
    return rate, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100_000)
    args = parser.parse_args()
    n = args.blocks
    signer = Signer.generate()
    print(f"lineage bench: {n:,} blocks, duckdb {duckdb.__version__}, {os.cpu_count()} CPUs "
          f"(signature checks use {os.cpu_count()} threads), load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    signed_rows = build_rows(n, signer)
    unsigned_rows = [(*row[:8], None) for row in signed_rows]
    with tempfile.TemporaryDirectory() as tmp:
        signed_path, unsigned_path = Path(tmp) / "signed.duckdb", Path(tmp) / "unsigned.duckdb"
        store(signed_path, signed_rows)
        store(unsigned_path, unsigned_rows)
        print(f"  built and stored both chains in {time.perf_counter() - started:.1f} s\n")

        print("baselines (same process, same data)")
        with duckdb.connect(str(unsigned_path)) as con:
            read_rate, _ = timed("read the rows from DuckDB into Python (no checks)", n,
                                 lambda: sum(len(b) for b in read_batches(con)))
            rehash_rate, _ = timed("read as Arrow, hashes recomputed by DuckDB (no checks)", n,
                                   lambda: sum(b.num_rows for b in read_hashed(con)))
        contents = [row[6].encode("utf-8") for row in signed_rows]
        sha_rate, _ = timed("hashlib.sha256 of each block's content (no parsing)", n,
                            lambda: [hashlib.sha256(c).digest() for c in contents])
        sample = signed_rows[: min(n, 20_000)]
        triples = [(parse_signature(r[8])[1], block_message(r[7]), signer.public_key.raw) for r in sample]
        nacl_rate, _ = timed(f"PyNaCl Ed25519 verify, one thread ({len(sample):,} signatures)", len(sample),
                             lambda: check_all(triples))
        workers = os.cpu_count() or 1
        with ThreadPoolExecutor(workers) as pool:
            parts = [triples[i::workers] for i in range(workers)]
            threaded_rate, _ = timed(f"PyNaCl Ed25519 verify, {workers} threads (same signatures)", len(sample),
                                     lambda: list(pool.map(check_all, parts)))

        print("\nlineage verification")
        with duckdb.connect(str(unsigned_path)) as con:
            chain = LineageChain(con)
            hash_rate, report = timed("hash chain (links + block hashes), unsigned chain", n, chain.verify)
            assert report.ok and report.blocks == n, report
            head = chain.checkpoint()
            merkle_rate, report = timed("hash chain + Merkle root against a checkpoint", n,
                                        lambda: chain.verify(checkpoint=head))
            assert report.ok, report
        with duckdb.connect(str(signed_path)) as con:
            chain = LineageChain(con)
            signed_rate, report = timed("every Ed25519 signature checked, pinned key", n,
                                        lambda: chain.verify(trusted_key=signer.public_key))
            assert report.ok and report.reason.startswith("intact, signed"), report
            head = chain.checkpoint(signer=signer)
            proof = chain.prove(signed_rows[n // 2][1], head)

    leaf, root = leaf_hash(bytes.fromhex(proof.block.hash)), bytes.fromhex(head.root_hash)
    path = [bytes.fromhex(h) for h in proof.audit_path]
    path_times, full_times = [], []
    for _ in range(1000):
        start = time.perf_counter()
        assert verify_inclusion(leaf, proof.block.seq, head.tree_size, path, root)
        path_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        proof.verify(trusted_key=signer.public_key)
        full_times.append(time.perf_counter() - start)
    path_ms, full_ms = statistics.median(path_times) * 1000, statistics.median(full_times) * 1000
    print(f"  {'inclusion proof, Merkle path only (' + str(len(path)) + ' hashes), median':<58} {path_ms:7.3f} ms")
    print(f"  {'inclusion proof, full check (block hash, both signatures), median':<58} {full_ms:7.3f} ms")

    print("\nratios")
    print(f"  hash-chain verification / DuckDB read alone          {hash_rate / read_rate:6.2f}x")
    print(f"  hash-chain verification / DuckDB read + re-hash alone {hash_rate / rehash_rate:6.2f}x")
    print(f"  hash-chain verification / sha256 of content alone    {hash_rate / sha_rate:6.3f}x")
    print(f"  signed verification / PyNaCl on one thread           {signed_rate / nacl_rate:6.2f}x")
    print(f"  signed verification / PyNaCl on {workers} threads            {signed_rate / threaded_rate:6.2f}x")
    print(f"  Merkle-checked / plain hash-chain verification        {merkle_rate / hash_rate:6.2f}x")

    checks = [
        (f"hash chain >= {HASH_TARGET:,} blocks/s", hash_rate >= HASH_TARGET, f"{hash_rate:,.0f}"),
        (f"signed >= {SIGNED_TARGET:,} blocks/s", signed_rate >= SIGNED_TARGET, f"{signed_rate:,.0f}"),
        (f"inclusion proof < {PROOF_TARGET_MS} ms", full_ms < PROOF_TARGET_MS, f"{full_ms:.3f} ms"),
    ]
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    for label, ok, figure in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {label}: {figure}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
