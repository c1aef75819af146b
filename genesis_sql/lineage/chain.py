"""LineageChain: the hash-linked, optionally signed chain stored in ``genesis.lineage``.

Example:
    >>> import duckdb, genesis_sql
    >>> con = genesis_sql.install(duckdb.connect())
    >>> chain = LineageChain(con)
    >>> block = chain.add_transform_block("dedupe", {"keys": ["id"]})
    >>> chain.verify().reason
    'intact, unsigned'
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql.catalog import apply_migrations
from genesis_sql.errors import LineageError, LineageVerificationError
from genesis_sql.lineage import drafts, store
from genesis_sql.lineage.block import COLUMNS, BlockDraft, LineageBlock, utc_timestamp
from genesis_sql.lineage.checkpoint import Checkpoint
from genesis_sql.lineage.fingerprint import RowsFingerprint
from genesis_sql.lineage.merkle import MerkleAccumulator, consistency_proof, inclusion_proof, leaf_hash
from genesis_sql.lineage.proof import ConsistencyProof, InclusionProof
from genesis_sql.lineage.signing import PublicKey, Signer
from genesis_sql.lineage.verify import VerificationReport, verify_batches, verify_hashed


class LineageChain:
    """The lineage chain of one database.

    Args:
        con: A connection to a database with the genesis catalog. Reads run on ``con`` itself (so they
            see its open transaction); appends run on a cursor of it, in a transaction of their own.
        signer: Signs every appended block; None appends unsigned blocks. ``LineageChain.from_env(con)``
            uses the key file named by ``GENESIS_LINEAGE_KEY``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, signer: Signer | None = None) -> None:
        self.con = con
        self.signer = signer

    @classmethod
    def from_env(cls, con: duckdb.DuckDBPyConnection) -> LineageChain:
        """A chain that signs with the key named by ``GENESIS_LINEAGE_KEY`` (unsigned when it is unset)."""
        return cls(con, signer=Signer.from_env())

    def append(self, *blocks: BlockDraft) -> list[LineageBlock]:
        """Append drafts as consecutive blocks, atomically; returns the stored blocks."""
        return store.append(self.con, blocks, signer=self.signer)

    def add_source_block(self, *, name: str, query: str, fingerprint: RowsFingerprint,
                         model: str | None = None) -> LineageBlock:
        """Record a data source: its query text and its rows' fingerprint (see :mod:`.fingerprint`)."""
        return self.append(drafts.source_draft(name=name, query=query, fingerprint=fingerprint, model=model))[0]

    def add_transform_block(self, operation: str, params: Mapping[str, Any] | None = None, *,
                            inputs: Sequence[str] = (), rows_hash: str | None = None,
                            model: str | None = None) -> LineageBlock:
        """Record a transformation of earlier blocks' data (``inputs`` are their block ids)."""
        return self.append(drafts.transform_draft(operation, params, inputs=inputs, rows_hash=rows_hash,
                                                  model=model))[0]

    def add_fit_block(self, *, model: str, version: int, method: str, content_hash: str,
                      parameters: Mapping[str, Any], training_rows: int, source_block: str | None,
                      fit_seconds: float | None = None) -> LineageBlock:
        """Record a fitted model version and the source block it was trained on."""
        return self.append(drafts.fit_draft(model=model, version=version, method=method, content_hash=content_hash,
                                            parameters=parameters, training_rows=training_rows,
                                            source_block=source_block, fit_seconds=fit_seconds))[0]

    def add_generation_block(self, *, model: str, version: int, content_hash: str, n: int, seed: int | None,
                             conditions: str | None, fingerprint: RowsFingerprint, destination: str) -> LineageBlock:
        """Record materialised synthetic output: model version, n, seed, conditions and rows fingerprint."""
        return self.append(drafts.generation_draft(model=model, version=version, content_hash=content_hash, n=n,
                                                   seed=seed, conditions=conditions, fingerprint=fingerprint,
                                                   destination=destination))[0]

    def add_quality_check(self, metrics: Mapping[str, Any], passed: bool | None, *, model: str | None = None,
                          version: int | None = None, run_id: str | None = None) -> LineageBlock:
        """Record a quality evaluation's headline metrics and whether it passed."""
        return self.append(drafts.quality_draft(metrics, passed, model=model, version=version, run_id=run_id))[0]

    def blocks(self) -> Iterator[LineageBlock]:
        """Every block, in seq order, read in batches."""
        for rows in store.read_batches(self.con):
            yield from (LineageBlock.from_row(row) for row in rows)

    def block(self, block_id: str) -> LineageBlock:
        """The block with this id; raises LineageError when there is none."""
        found = store.read_blocks(self.con, where="WHERE block_id = ?", params=[block_id])
        if not found:
            raise LineageError(f"No lineage block has the id {block_id!r}; list them with "
                               "SELECT block_id, block_type FROM genesis.lineage ORDER BY seq.")
        return found[0]

    def __len__(self) -> int:
        return store.count(self.con)

    def verify(self, *, trusted_key: PublicKey | None = None, checkpoint: Checkpoint | None = None) -> VerificationReport:
        """Check every link, hash and signature, and the checkpoint when given (see :mod:`.verify`)."""
        # Closed even when verification raises: a half-read result would block every other query on the connection.
        with closing(store.read_hashed(self.con)) as batches:
            return verify_hashed(batches, trusted_key=trusted_key, checkpoint=checkpoint)

    def _leaves(self, size: int | None = None) -> list[bytes]:
        leaves = []
        for block in self.blocks():
            if size is not None and len(leaves) == size:
                break
            leaves.append(leaf_hash(bytes.fromhex(block.hash)))
        return leaves

    def checkpoint(self, *, signer: Signer | None = None) -> Checkpoint:
        """A checkpoint of the whole chain as it is now, signed by ``signer`` when given.

        The chain is verified first: a checkpoint vouches only for a chain that verifies.
        """
        self.verify().raise_if_failed()
        merkle, tip = MerkleAccumulator(), None
        for block in self.blocks():
            merkle.add(leaf_hash(bytes.fromhex(block.hash)))
            tip = block.block_id
        checkpoint = Checkpoint(merkle.size, merkle.root().hex(), tip, utc_timestamp())
        return checkpoint.sign(signer) if signer is not None else checkpoint

    def prove(self, block_id: str, checkpoint: Checkpoint) -> InclusionProof:
        """An inclusion proof of the block in the tree ``checkpoint`` signs, checkable offline."""
        block = self.block(block_id)
        if block.seq >= checkpoint.tree_size:
            raise LineageError(f"Block {block_id} (seq {block.seq}) is newer than the checkpoint, which covers "
                               f"{checkpoint.tree_size} blocks: take a new checkpoint first.")
        leaves = self._leaves(checkpoint.tree_size)
        proof = InclusionProof(block, tuple(h.hex() for h in inclusion_proof(leaves, block.seq)), checkpoint)
        proof.verify()
        return proof

    def prove_consistency(self, old: Checkpoint, new: Checkpoint) -> ConsistencyProof:
        """A proof that the chain ``old`` covered is a prefix of the chain ``new`` covers."""
        if not 0 < old.tree_size <= new.tree_size:
            raise LineageError(f"A consistency proof goes from a smaller non-empty checkpoint to a larger one; "
                               f"got sizes {old.tree_size} and {new.tree_size}.")
        leaves = self._leaves(new.tree_size)
        path = consistency_proof(leaves, old.tree_size) if old.tree_size < new.tree_size else []
        proof = ConsistencyProof(old, new, tuple(h.hex() for h in path))
        proof.verify()
        return proof

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write every block as one JSON object per line (JSONL, stored fields as text); returns the count."""
        count = 0
        try:
            with Path(path).open("w", encoding="utf-8", newline="\n") as handle:
                for block in self.blocks():
                    handle.write(json.dumps(block.as_dict(), ensure_ascii=False) + "\n")
                    count += 1
        except OSError as exc:
            raise LineageError(f"Cannot write the lineage export {str(path)!r}: {exc.strerror}.") from exc
        return count

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, trusted_key: PublicKey | None = None,
             checkpoint: Checkpoint | None = None) -> LineageChain:
        """Verify an export and load it into an in-memory database; raises LineageVerificationError if it fails.

        The ``content`` of each line is the stored text, so verification hashes exactly the exported bytes.
        """
        rows = _read_export(path)
        report = verify_batches([rows], trusted_key=trusted_key, checkpoint=checkpoint)
        report.raise_if_failed(f"The export {str(path)!r}")
        con = duckdb.connect()
        apply_migrations(con)
        columns = list(zip(*rows)) if rows else [[] for _ in COLUMNS]
        con.register("_genesis_export", pa.Table.from_arrays([pa.array(c) for c in columns], schema=store.ARROW_SCHEMA))
        try:
            con.execute(f"INSERT INTO {store.TABLE} SELECT * FROM _genesis_export")
        except duckdb.ConstraintException as exc:
            raise LineageVerificationError(f"The export {str(path)!r} repeats a block id: {exc}") from exc
        return cls(con)


def _read_export(path: str | os.PathLike[str]) -> list[tuple]:
    rows = []
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    rows.append(LineageBlock.from_dict(json.loads(line)).as_row())
                except (json.JSONDecodeError, LineageError) as exc:
                    raise LineageVerificationError(
                        f"The export {str(path)!r} failed verification at line {number}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LineageError(f"Cannot read the lineage export {str(path)!r}: {exc}") from exc
    return rows
