"""Lineage: a tamper-evident, signed, hash-linked chain in ``genesis.lineage``, with Merkle checkpoints.

The chain (:class:`LineageChain`) is a table any SQL client can read; :func:`verify_batches` checks it,
:class:`Checkpoint` and the proofs let anyone check it against a tree head kept elsewhere (blocks added
after the newest checkpoint are protected by the hash chain and signatures only), and the recorders
(:func:`record_fit`, :func:`record_generation`, :func:`record_quality`) are what fitting, generating and
evaluating call so that every synthetic table can say where it came from. :class:`DataLineage` and
:class:`LineageManifest` give the per-model view; :func:`openlineage_events` exports it.
"""
from __future__ import annotations

from genesis_sql.lineage.block import BLOCK_TYPES, BlockDraft, LineageBlock
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.fingerprint import BatchFingerprint, RowsFingerprint, query_fingerprint, table_fingerprint
from genesis_sql.lineage.manifest import DataLineage, LineageManifest
from genesis_sql.lineage.openlineage import openlineage_events
from genesis_sql.lineage.proof import ConsistencyProof, InclusionProof
from genesis_sql.lineage.record import record_fit, record_generation, record_quality
from genesis_sql.lineage.signing import PublicKey, Signer, trusted_key
from genesis_sql.lineage.verify import VerificationReport, verify_batches

__all__ = [
    "BLOCK_TYPES",
    "BatchFingerprint",
    "BlockDraft",
    "Checkpoint",
    "ConsistencyProof",
    "DataLineage",
    "InclusionProof",
    "LineageBlock",
    "LineageChain",
    "LineageManifest",
    "PublicKey",
    "RowsFingerprint",
    "Signer",
    "VerificationReport",
    "openlineage_events",
    "query_fingerprint",
    "record_fit",
    "record_generation",
    "record_quality",
    "table_fingerprint",
    "trusted_key",
    "verify_batches",
]
