"""What each kind of block records: one function per block type, each returning a :class:`BlockDraft`.

Every block that belongs to a model carries ``"model": name`` in its content, which is how the per-model
view (:mod:`genesis_sql.lineage.manifest`) finds it. ``data_hash`` is the fingerprint of the data the
block is about (the rows fingerprint of a source or of generated output, the content hash of a fitted
model), or 64 zeros when it is about no data.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from genesis_sql.lineage.block import ZERO_HASH, BlockDraft
from genesis_sql.lineage.encoding import canonical_bytes
from genesis_sql.lineage.fingerprint import RowsFingerprint


def _with_model(content: dict[str, Any], model: str | None) -> dict[str, Any]:
    return {**content, "model": model} if model is not None else content


def parameters_hash(parameters: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a model's parameters."""
    return hashlib.sha256(canonical_bytes(dict(parameters))).hexdigest()


def _rows(fingerprint: RowsFingerprint) -> dict[str, Any]:
    return {"row_count": fingerprint.row_count, "rows_hash": fingerprint.rows_hash,
            "fingerprint_engine": fingerprint.engine}


def source_draft(*, name: str, query: str, fingerprint: RowsFingerprint, model: str | None = None) -> BlockDraft:
    """A data source as read: its query text, how many rows it returned and their fingerprint."""
    content = {"name": name, "query": query, **_rows(fingerprint)}
    return BlockDraft("source", _with_model(content, model), fingerprint.rows_hash)


def transform_draft(operation: str, params: Mapping[str, Any] | None = None, *, inputs: Sequence[str] = (),
                    rows_hash: str | None = None, model: str | None = None) -> BlockDraft:
    """A transformation applied to earlier blocks' data (``inputs`` are their block ids)."""
    content = {"operation": operation, "params": dict(params or {}), "inputs": list(inputs)}
    if rows_hash is not None:
        content["rows_hash"] = rows_hash
    return BlockDraft("transform", _with_model(content, model), rows_hash or ZERO_HASH)


def fit_draft(*, model: str, version: int, method: str, content_hash: str, parameters: Mapping[str, Any],
              training_rows: int, source_block: str | None, fit_seconds: float | None = None,
              training_fingerprint: str | None = None, holdout: Mapping[str, Any] | None = None) -> BlockDraft:
    """A model version fitted: what it is (content hash), how (method, parameter hash) and from what source.

    ``training_fingerprint`` is the catalog's fingerprint of the rows that trained the model (the source
    less any holdout), and ``holdout`` how the held-out split is re-derived.
    """
    content = {"model": model, "version": int(version), "method": method, "content_hash": content_hash,
               "parameters_hash": parameters_hash(parameters), "training_rows": int(training_rows),
               "source_block": source_block, "training_fingerprint": training_fingerprint,
               "holdout": dict(holdout) if holdout is not None else None}
    if fit_seconds is not None:
        content["fit_seconds"] = round(float(fit_seconds), 6)
    return BlockDraft("fit", content, content_hash)


def generation_draft(*, model: str, version: int, content_hash: str, n: int, seed: int | None,
                     conditions: str | None, fingerprint: RowsFingerprint, destination: str) -> BlockDraft:
    """Synthetic rows materialised: which model version, how many, seed, pushed conditions, rows fingerprint."""
    content = {"model": model, "version": int(version), "content_hash": content_hash, "n": int(n),
               "seed": None if seed is None else int(seed), "conditions": conditions or None,
               "destination": destination, **_rows(fingerprint)}
    return BlockDraft("generation", content, fingerprint.rows_hash)


def quality_draft(metrics: Mapping[str, Any], passed: bool | None, *, model: str | None = None,
                  version: int | None = None, run_id: str | None = None) -> BlockDraft:
    """A quality evaluation: its run id, the headline metrics and whether it passed."""
    content = {"metrics": dict(metrics), "passed": passed, "run_id": run_id,
               "version": None if version is None else int(version)}
    return BlockDraft("quality", _with_model(content, model))
