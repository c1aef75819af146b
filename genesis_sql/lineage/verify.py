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
cut short of a checkpoint) is named ``seq N (missing)``. Each batch's signatures are checked on worker
threads (PyNaCl releases the GIL while it checks).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions

from genesis_sql.errors import LineageError, LineageVerificationError
from genesis_sql.lineage.block import BLOCK_TYPES, ZERO_HASH, block_hash
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash
from genesis_sql.lineage.signing import BLOCK_DOMAIN, PublicKey, parse_signature

_TYPES = frozenset(BLOCK_TYPES)


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


@dataclass(frozen=True)
class _Failure:
    position: int
    block_id: str
    reason: str


def _verify_signatures(items: list[tuple[int, str, bytes, bytes, bytes]]) -> _Failure | None:
    """The first of (position, block_id, key, signature, message) whose signature fails, if any."""
    for position, block_id, key, signature, message in items:
        try:
            nacl.bindings.crypto_sign_open(signature + message, key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return _Failure(position, block_id, "its signature does not verify: the block or signature was altered")
    return None


class _Verifier:
    """The state carried from batch to batch."""

    def __init__(self, pool: ThreadPoolExecutor, workers: int, trusted: PublicKey | None,
                 checkpoint: Checkpoint | None) -> None:
        self.pool, self.workers, self.trusted, self.checkpoint = pool, workers, trusted, checkpoint
        self.count = 0
        self.previous = ZERO_HASH
        self.signed_blocks = 0
        self.merkle = MerkleAccumulator()
        self.prefix = f"ed25519:{trusted.hex}:" if trusted else ""
        self.keys: dict[str, bytes] = {}

    def _signature(self, position: int, block_id: str, text: str) -> tuple[bytes, bytes] | _Failure:
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
                return _Failure(position, block_id, f"its {exc}")
            return _Failure(position, block_id, f"it is signed by key {PublicKey.from_hex(key).fingerprint}, "
                                                f"not by the trusted key {self.trusted.fingerprint}")
        try:
            key, raw = parse_signature(text)
        except LineageError as exc:
            return _Failure(position, block_id, f"its {exc}")
        if key not in self.keys:
            self.keys[key] = bytes.fromhex(key)
        return self.keys[key], raw

    def _check_block(self, position: int, row: Sequence[Any]) -> _Failure | str:
        seq, block_id, block_type, timestamp, previous, data_hash, content, stored, _ = row
        if seq != position:
            gap = f" (block seq {position} is missing)" if isinstance(seq, int) and seq > position else ""
            return _Failure(position, block_id, f"its seq is {seq}, expected {position}{gap}")
        if block_type not in _TYPES or (block_type == "genesis") != (position == 0):
            expected = "'genesis'" if position == 0 else f"one of {BLOCK_TYPES[1:]}"
            return _Failure(position, block_id, f"its block_type is {block_type!r}, expected {expected}")
        if previous != self.previous:
            return _Failure(position, block_id, "its previous_hash is not the hash of the block before it")
        computed = block_hash(seq, block_id, block_type, timestamp, previous, data_hash, content)
        if computed != stored:
            return _Failure(position, block_id, "its stored hash does not match its fields: the block was altered")
        return computed

    def feed(self, rows: Sequence[Sequence[Any]]) -> _Failure | None:
        """Check one batch; returns the first failure found so far, if any."""
        failure: _Failure | None = None
        signed: list[tuple[int, str, bytes, bytes, bytes]] = []
        size = self.checkpoint.tree_size if self.checkpoint else -1
        for row in rows:
            position, block_id, signature = self.count, row[1], row[8]
            result = self._check_block(position, row)
            if isinstance(result, _Failure):
                failure = result
                break
            if signature is not None:
                parsed = self._signature(position, block_id, signature)
                if isinstance(parsed, _Failure):
                    failure = parsed
                    break
                signed.append((position, block_id, parsed[0], parsed[1], BLOCK_DOMAIN + bytes.fromhex(result)))
                self.signed_blocks += 1
            elif self.trusted is not None:
                failure = _Failure(position, block_id, "it is not signed, but a trusted key was given: it was "
                                                       "written without GENESIS_LINEAGE_KEY, or forged")
                break
            if position < size:
                self.merkle.add(leaf_hash(bytes.fromhex(result)))
                if position == size - 1 and self.merkle.root().hex() != self.checkpoint.root_hash:
                    failure = _Failure(position, block_id, f"the first {size} blocks do not match the checkpoint's "
                                                           "root: the chain was rewritten at or before this block")
                    break
            self.previous = result
            self.count += 1
        return self._check_signatures(signed) or failure

    def _check_signatures(self, signed: list[tuple[int, str, bytes, bytes, bytes]]) -> _Failure | None:
        # The batch is hashed first and its signatures checked after, not overlapped: a main thread busy in
        # Python would hold the GIL that each worker needs between two signature checks.
        chunk = max(1, -(-len(signed) // self.workers))
        futures = [self.pool.submit(_verify_signatures, signed[i:i + chunk]) for i in range(0, len(signed), chunk)]
        failures = [f for f in (future.result() for future in futures) if f is not None]
        return min(failures, key=lambda f: f.position) if failures else None

    def finish(self) -> _Failure | None:
        """The failures only the whole chain can show: a tail cut off short of the checkpoint."""
        if self.checkpoint is not None and self.count < self.checkpoint.tree_size:
            return _Failure(self.count, f"seq {self.count} (missing)",
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


def verify_batches(batches: Iterable[Sequence[Sequence[Any]]], *, trusted_key: PublicKey | None = None,
                   checkpoint: Checkpoint | None = None, workers: int | None = None) -> VerificationReport:
    """Verify blocks given as rows of :data:`block.COLUMNS`, in seq order, in batches of any size.

    Args:
        batches: Lists of rows, the whole chain from seq 0 on.
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
        failure = None
        total = 0
        for rows in batches:
            total += len(rows)
            failure = failure or verifier.feed(rows)
        failure = failure or verifier.finish()
    if failure is not None:
        return VerificationReport(False, total, failure.block_id, failure.reason)
    return VerificationReport(True, verifier.count, None, verifier.success_reason())
