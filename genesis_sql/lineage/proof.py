"""Proofs that can be checked offline, with nothing but the proof file and a trusted public key.

An inclusion proof carries the block (its stored fields), its RFC 6962 audit path and the checkpoint it
proves membership in; a consistency proof carries two checkpoints and the RFC 6962 path showing the
older tree is a prefix of the newer one. ``verify`` recomputes the block hash from the stored fields,
walks the path to the checkpoint's root and, with a trusted key, checks the checkpoint's signature.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis_sql.errors import LineageError, LineageVerificationError
from genesis_sql.lineage.block import LineageBlock
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.encoding import canonical_json
from genesis_sql.lineage.merkle import leaf_hash, verify_consistency, verify_inclusion
from genesis_sql.lineage.signing import PublicKey, block_message, parse_signature

INCLUSION_FORMAT = "genesis-lineage-inclusion-proof/1"
CONSISTENCY_FORMAT = "genesis-lineage-consistency-proof/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _path(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) and _HEX64.match(v) for v in values):
        raise LineageError("A proof's path must be a list of 64-hex-digit hashes.")
    return tuple(values)


def _read(path: str | os.PathLike[str], expected: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LineageError(f"Cannot read the proof file {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != expected:
        raise LineageError(f"{str(path)!r} is not a proof of format {expected!r}.")
    return data


def _signature_problem(block: LineageBlock, trusted_key: PublicKey | None) -> str | None:
    try:
        key, signature = parse_signature(block.signature or "")
    except LineageError as exc:
        return f"block {block.block_id} has a malformed signature: {exc}"
    if trusted_key is not None and key != trusted_key.hex:
        return f"block {block.block_id} is not signed by the trusted key {trusted_key.fingerprint}"
    if not PublicKey.from_hex(key).verify(block_message(block.hash), signature):
        return f"the signature of block {block.block_id} does not verify"
    return None


@dataclass(frozen=True)
class InclusionProof:
    """Block ``block.seq`` is leaf ``block.seq`` of the tree the checkpoint signs."""

    block: LineageBlock
    audit_path: tuple[str, ...]
    checkpoint: Checkpoint

    def verify(self, *, trusted_key: PublicKey | None = None) -> None:
        """Raise LineageVerificationError unless the proof holds (and, with a trusted key, is signed by it)."""
        block, name = self.block, f"block {self.block.block_id}"
        problem = self.checkpoint.signature_problem(trusted_key)
        if problem is None and not block.verify():
            problem = f"the stored hash of {name} does not match its fields"
        if problem is None and block.signature is not None:
            problem = _signature_problem(block, trusted_key)
        if problem is None and not verify_inclusion(
                leaf_hash(bytes.fromhex(block.hash)), block.seq, self.checkpoint.tree_size,
                [bytes.fromhex(h) for h in self.audit_path], bytes.fromhex(self.checkpoint.root_hash)):
            problem = (f"the audit path does not lead from {name} (seq {block.seq}) to the checkpoint's root "
                       f"of {self.checkpoint.tree_size} blocks")
        if problem is not None:
            raise LineageVerificationError(f"The inclusion proof failed: {problem}.")

    def to_json(self) -> str:
        """The proof as one line of canonical JSON."""
        return canonical_json({"format": INCLUSION_FORMAT, "block": self.block.as_dict(),
                               "leaf_index": self.block.seq, "tree_size": self.checkpoint.tree_size,
                               "audit_path": list(self.audit_path), "checkpoint": self.checkpoint.to_dict()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> InclusionProof:
        """Read a proof file written by ``genesis lineage prove``."""
        data = _read(path, INCLUSION_FORMAT)
        return cls(LineageBlock.from_dict(data.get("block")), _path(data.get("audit_path")),
                   Checkpoint.from_dict(data.get("checkpoint")))


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old`` is a prefix of the tree of ``new``: nothing ``old`` covered was rewritten."""

    old: Checkpoint
    new: Checkpoint
    path: tuple[str, ...]

    def verify(self, *, trusted_key: PublicKey | None = None) -> None:
        """Raise LineageVerificationError unless the proof holds (and, with a trusted key, both are signed by it)."""
        problem = self.old.signature_problem(trusted_key) or self.new.signature_problem(trusted_key)
        if problem is None and not verify_consistency(
                self.old.tree_size, self.new.tree_size, bytes.fromhex(self.old.root_hash),
                bytes.fromhex(self.new.root_hash), [bytes.fromhex(h) for h in self.path]):
            problem = (f"the checkpoint of {self.old.tree_size} blocks is not a prefix of the checkpoint of "
                       f"{self.new.tree_size} blocks: the chain was rewritten between them")
        if problem is not None:
            raise LineageVerificationError(f"The consistency proof failed: {problem}.")

    def to_json(self) -> str:
        """The proof as one line of canonical JSON."""
        return canonical_json({"format": CONSISTENCY_FORMAT, "old": self.old.to_dict(), "new": self.new.to_dict(),
                               "path": list(self.path)})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ConsistencyProof:
        """Read a consistency proof file."""
        data = _read(path, CONSISTENCY_FORMAT)
        return cls(Checkpoint.from_dict(data.get("old")), Checkpoint.from_dict(data.get("new")), _path(data.get("path")))
