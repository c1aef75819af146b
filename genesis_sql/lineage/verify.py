"""Verification of a chain of stored blocks, streamed in batches: links, hashes, signatures, checkpoint.

For every block, in seq order, the verifier checks that

1. ``seq`` is its position (0, 1, 2 ...) and only seq 0 is the ``genesis`` block, with ``previous_hash``
   all zeros;
2. ``previous_hash`` is the stored hash of the block before it;
3. the stored ``hash`` is the hash of the stored fields, bytes as stored (:func:`block.block_hash`);
4. a signature, when present, is valid for the key it names; with a trusted key pinned, every block must
   carry a valid signature by that key (an unsigned block proves nothing, so it cannot be vouched for);
5. with a checkpoint, the RFC 6962 root of the first ``tree_size`` blocks equals the checkpoint's root and
   the chain is at least that long.

The report names the first bad block by ``block_id``; a block that is missing altogether (the chain was
cut short of a checkpoint) is named ``seq N (missing)``.

How it is built, and why: an Ed25519 check costs several times all the other checks of a block together,
so verification is as fast as the cores that check signatures are kept busy. The chain arrives as Arrow
record batches in which DuckDB has already recomputed each block's hash over its stored bytes
(:data:`block.HASH_SQL`, through :func:`store.read_hashed`; rows from an export or a test take the same
SQL through :func:`store.hash_rows`). Checks 1 to 3 are whole-column comparisons (pyarrow compute), and
Python reads a row only to word the reason of the first one that fails. Check 4 runs on worker threads,
a chunk of rows per task, while the main thread goes on to the next batch. PyNaCl releases the GIL while
it checks a signature, and DuckDB and pyarrow release it while the main thread waits on them, so hashing
overlaps the signature checks instead of stalling them: a thread looping over rows in Python would hold
the GIL that each worker needs between two checks. Check 5, only with a checkpoint, folds the Merkle root
on the main thread, the one loop over rows left there. Each failure is kept with its position and check,
and the earliest in (seq, check) order is reported, whichever thread found it. The queue of tasks is
bounded, so Python holds a few batches of rows at a time, however long the chain.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.exceptions
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.errors import LineageError, LineageVerificationError
from genesis_sql.lineage.block import BLOCK_TYPES, ZERO_HASH
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash
from genesis_sql.lineage.signing import PublicKey, block_message, parse_signature
from genesis_sql.lineage.store import hash_rows

_TYPES = frozenset(BLOCK_TYPES)
_TYPE_SET = pa.array(BLOCK_TYPES)
_CHUNK = 256
"""Signatures per worker task: small enough that the workers finish together, large enough to amortise a task."""
_QUEUED_PER_WORKER = 8
"""Tasks queued per worker before the main thread waits for the oldest: bounds the rows held in memory."""
_STRUCTURE, _SIGNATURE, _CHECKPOINT = 0, 1, 2
"""The order in which the checks of one block run: checks 1-3, check 4, check 5."""


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of a verification: the row ``genesis_lineage_verify()`` returns."""

    ok: bool
    blocks: int
    first_bad_block: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The report as a dict with the SQL column names."""
        return {"ok": self.ok, "blocks": self.blocks, "first_bad_block": self.first_bad_block, "reason": self.reason}

    def raise_if_failed(self, subject: str = "The lineage chain") -> None:
        """Raise LineageVerificationError naming the first bad block, unless the report is ok."""
        if self.ok:
            return
        where = f" at block {self.first_bad_block}" if self.first_bad_block else ""
        raise LineageVerificationError(f"{subject} failed verification{where}: {self.reason}.")


@dataclass(frozen=True, order=True)
class _Failure:
    """A failed check; failures order by the block's position, then by which check failed first on it."""

    position: int
    check: int
    block_id: str = field(compare=False)
    reason: str = field(compare=False)


def _structure_reason(position: int, row: dict[str, Any], previous: str) -> str:
    """Why a block failed checks 1 to 3, which the column comparisons found it did: the first that fails."""
    seq, block_type = row["seq"], row["block_type"]
    if seq != position:
        gap = f" (block seq {position} is missing)" if isinstance(seq, int) and seq > position else ""
        return f"its seq is {seq}, expected {position}{gap}"
    if block_type not in _TYPES or (block_type == "genesis") != (position == 0):
        expected = "'genesis'" if position == 0 else f"one of {BLOCK_TYPES[1:]}"
        return f"its block_type is {block_type!r}, expected {expected}"
    if row["previous_hash"] != previous:
        return "its previous_hash is not the hash of the block before it"
    return "its stored hash does not match its fields: the block was altered"


class _Signatures:
    """Check 4 for runs of blocks whose checks 1 to 3 passed; thread-safe, it runs on the worker threads."""

    def __init__(self, trusted: PublicKey | None) -> None:
        self.trusted = trusted
        self.prefix = f"ed25519:{trusted.hex}:" if trusted else ""
        self.keys: dict[str, bytes] = {}

    def _parse(self, text: str) -> tuple[bytes, bytes] | str:
        """(public key, signature) from a stored signature, or why it cannot be accepted."""
        if self.trusted is not None:
            if text.startswith(self.prefix) and len(text) == len(self.prefix) + 128:
                hex_signature = text[len(self.prefix):]
                try:
                    raw = bytes.fromhex(hex_signature)
                except ValueError:
                    raw = b""
                if raw.hex() == hex_signature:
                    return self.trusted.raw, raw
            try:
                key, _ = parse_signature(text)
            except LineageError as exc:
                return f"its {exc}"
            return (f"it is signed by key {PublicKey.from_hex(key).fingerprint}, "
                    f"not by the trusted key {self.trusted.fingerprint}")
        try:
            key, raw = parse_signature(text)
        except LineageError as exc:
            return f"its {exc}"
        if key not in self.keys:
            self.keys[key] = bytes.fromhex(key)
        return self.keys[key], raw

    def problem(self, text: str | None, digest: str) -> str | None:
        """Why the block with this stored signature and hash fails check 4, or None when it passes."""
        if text is None:
            if self.trusted is None:
                return None
            return ("it is not signed, but a trusted key was given: it was written without GENESIS_LINEAGE_KEY, "
                    "or forged")
        parsed = self._parse(text)
        if isinstance(parsed, str):
            return parsed
        key, raw = parsed
        try:
            nacl.bindings.crypto_sign_open(raw + block_message(digest), key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return "its signature does not verify: the block or signature was altered"
        return None

    def check(self, start: int, block_ids: pa.Array, signatures: pa.Array, hashes: pa.Array) -> _Failure | None:
        """The first failure among consecutive blocks from position ``start`` on, if any."""
        for offset, (text, digest) in enumerate(zip(signatures.to_pylist(), hashes.to_pylist())):
            problem = self.problem(text, digest)
            if problem is not None:
                return _Failure(start + offset, _SIGNATURE, block_ids[offset].as_py(), problem)
        return None


class _Verifier:
    """The state carried from batch to batch, and the signature tasks still running."""

    def __init__(self, pool: ThreadPoolExecutor, workers: int, trusted: PublicKey | None,
                 checkpoint: Checkpoint | None) -> None:
        self.pool, self.trusted, self.checkpoint = pool, trusted, checkpoint
        self.queue_limit = workers * _QUEUED_PER_WORKER
        self.count = 0
        self.previous = ZERO_HASH
        self.signed_blocks = 0
        self.merkle = MerkleAccumulator()
        self.signatures = _Signatures(trusted)
        self.pending: deque[Future[_Failure | None]] = deque()
        self.failures: list[_Failure] = []

    def feed(self, batch: pa.RecordBatch) -> None:
        """Check the next batch (rows of :data:`block.COLUMNS` and ``computed``); failures go to ``failures``."""
        hashes = batch.column("hash")
        good = self._first_structure_failure(batch)
        self._queue_signatures(batch, good)
        self._fold_merkle(hashes, batch.column("block_id"), good)
        previous = hashes[good - 1].as_py() if good else self.previous
        if good < batch.num_rows:
            position, row = self.count + good, batch.slice(good, 1).to_pylist()[0]
            self.failures.append(_Failure(position, _STRUCTURE, row["block_id"],
                                          _structure_reason(position, row, previous)))
        self._take_finished()
        self.count, self.previous = self.count + good, previous

    def _first_structure_failure(self, batch: pa.RecordBatch) -> int:
        """The index of the first row that fails checks 1 to 3, or the batch's length when none does."""
        rows = batch.num_rows
        positions = pa.array(np.arange(self.count, self.count + rows, dtype=np.int64))
        hashes, block_type = batch.column("hash"), batch.column("block_type")
        before = pa.concat_arrays([pa.array([self.previous], hashes.type), hashes.slice(0, rows - 1)])
        passed = pc.and_(pc.equal(batch.column("seq"), positions), pc.is_in(block_type, value_set=_TYPE_SET))
        passed = pc.and_(passed, pc.equal(pc.equal(block_type, "genesis"), pc.equal(positions, 0)))
        passed = pc.and_(passed, pc.equal(batch.column("previous_hash"), before))
        passed = pc.and_(passed, pc.equal(batch.column("computed"), hashes))
        first = pc.index(pc.fill_null(passed, False), False).as_py()
        return rows if first < 0 else first

    def _queue_signatures(self, batch: pa.RecordBatch, rows: int) -> None:
        """Hand the signatures of the batch's first ``rows`` rows to the workers, a chunk per task."""
        signatures = batch.column("signature").slice(0, rows)
        self.signed_blocks += rows - signatures.null_count
        if self.trusted is None and signatures.null_count == rows:
            return
        hashes, block_ids = batch.column("hash"), batch.column("block_id")
        for start in range(0, rows, _CHUNK):
            if len(self.pending) >= self.queue_limit:
                self._take_finished(wait=True)
            future = self.pool.submit(self.signatures.check, self.count + start, block_ids.slice(start, _CHUNK),
                                      signatures.slice(start, _CHUNK), hashes.slice(start, _CHUNK))
            self.pending.append(future)

    def _fold_merkle(self, hashes: pa.Array, block_ids: pa.Array, rows: int) -> None:
        """Add the leaves of the batch's first ``rows`` rows that the checkpoint covers; check the root at its end."""
        size = self.checkpoint.tree_size if self.checkpoint else 0
        covered = min(rows, size - self.count)
        if covered <= 0:
            return
        for digest in hashes.slice(0, covered).to_pylist():
            self.merkle.add(leaf_hash(bytes.fromhex(digest)))
        if self.merkle.size == size and self.merkle.root().hex() != self.checkpoint.root_hash:
            self.failures.append(_Failure(size - 1, _CHECKPOINT, block_ids[covered - 1].as_py(),
                                          f"the first {size} blocks do not match the checkpoint's root: "
                                          "the chain was rewritten at or before this block"))

    def _take_finished(self, *, wait: bool = False) -> None:
        """Move the failures of finished signature tasks to ``failures``, oldest first; ``wait`` for the oldest."""
        while self.pending and (wait or self.pending[0].done()):
            failure = self.pending.popleft().result()
            if failure is not None:
                self.failures.append(failure)
            wait = False

    def finish(self) -> _Failure | None:
        """The earliest failure, once every signature task is done, including a tail cut short of the checkpoint."""
        while self.pending:
            self._take_finished(wait=True)
        if self.failures:
            return min(self.failures)
        if self.checkpoint is not None and self.count < self.checkpoint.tree_size:
            return _Failure(self.count, _CHECKPOINT, f"seq {self.count} (missing)",
                            f"the chain has {self.count} blocks but the checkpoint covers {self.checkpoint.tree_size}: "
                            f"blocks from seq {self.count} on were removed")
        return None

    def success_reason(self) -> str:
        """The reason line of an intact chain: what was checked, and what a checkpoint does not cover."""
        if self.count == 0:
            reason = "intact, empty"
        elif self.trusted is not None:
            reason = f"intact, signed by trusted key {self.trusted.fingerprint}"
        elif self.signed_blocks:
            reason = "hashes intact, signer not pinned"
        else:
            reason = "intact, unsigned"
        if self.checkpoint is not None:
            size = self.checkpoint.tree_size
            reason += f"; matches the checkpoint of {size} blocks"
            if self.count > size:
                guard = "hash chain and signatures" if self.trusted is not None else "hash chain"
                newer = self.count - size
                reason += f" ({newer} newer {'block is' if newer == 1 else 'blocks are'} protected by the {guard} only)"
            if self.trusted is None and self.checkpoint.signature is not None:
                reason += ", checkpoint signer not pinned"
        return reason


def verify_hashed(batches: Iterable[pa.RecordBatch], *, trusted_key: PublicKey | None = None,
                  checkpoint: Checkpoint | None = None, workers: int | None = None) -> VerificationReport:
    """Verify the chain given as the record batches of :func:`store.read_hashed` (or :func:`store.hash_rows`).

    Args:
        batches: Rows of :data:`block.COLUMNS` plus ``computed``, the whole chain from seq 0 on, in order.
        trusted_key: The pinned public key, or None to check hashes (and any signatures' self-consistency).
        checkpoint: A checkpoint kept outside the database, to catch truncation and whole-chain rewrites.
        workers: Threads that check signatures; defaults to the number of CPUs.

    Returns:
        The report: how many blocks the chain has and, when ``ok`` is False, the first bad block.
    """
    if checkpoint is not None:
        problem = checkpoint.signature_problem(trusted_key)
        if problem is None and checkpoint.tree_size == 0 and checkpoint.root_hash != EMPTY_ROOT.hex():
            problem = "the checkpoint covers 0 blocks but its root is not the empty tree's"
        if problem is not None:
            return VerificationReport(False, 0, None, problem)
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lineage-verify") as pool:
        verifier = _Verifier(pool, workers, trusted_key, checkpoint)
        total = 0
        for batch in batches:
            total += batch.num_rows
            if batch.num_rows and not verifier.failures:
                verifier.feed(batch)
        failure = verifier.finish()
    if failure is not None:
        return VerificationReport(False, total, failure.block_id, failure.reason)
    return VerificationReport(True, verifier.count, None, verifier.success_reason())


def verify_batches(batches: Iterable[Sequence[Sequence[Any]]], *, trusted_key: PublicKey | None = None,
                   checkpoint: Checkpoint | None = None, workers: int | None = None) -> VerificationReport:
    """Verify blocks given as rows of :data:`block.COLUMNS`, in seq order, in batches of any size.

    The rows are hashed by the same SQL as a stored chain (:func:`store.hash_rows`), then checked by
    :func:`verify_hashed`; see it for the arguments.
    """
    return verify_hashed(hash_rows(batches), trusted_key=trusted_key, checkpoint=checkpoint, workers=workers)
