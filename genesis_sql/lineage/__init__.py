"""Lineage: a tamper-evident, signed, hash-linked chain in ``genesis.lineage``, with Merkle checkpoints.

The chain (:class:`LineageChain`) is a table any SQL client can read; :func:`verify_batches` checks it,
:class:`Checkpoint` and the proofs let anyone check it against a tree head kept elsewhere, and the
recorders (:func:`record_fit`, :func:`record_generation`, :func:`record_quality`) are what fitting,
generating and evaluating call so that every synthetic table can say where it came from.
"""
from __future__ import annotations

from genesis_sql.lineage.block import BLOCK_TYPES, BlockDraft, LineageBlock
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.fingerprint import RowsFingerprint, query_fingerprint, table_fingerprint
from genesis_sql.lineage.proof import ConsistencyProof, InclusionProof
from genesis_sql.lineage.signing import PublicKey, Signer, trusted_key
from genesis_sql.lineage.verify import VerificationReport, verify_batches

__all__ = [
    "BLOCK_TYPES",
    "BlockDraft",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "LineageBlock",
    "LineageChain",
    "PublicKey",
    "RowsFingerprint",
    "Signer",
    "VerificationReport",
    "query_fingerprint",
    "table_fingerprint",
    "trusted_key",
    "verify_batches",
]
