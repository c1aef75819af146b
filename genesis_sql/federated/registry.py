"""Storing a federated model like any other: catalog row, arrays, lineage, the generation function.

The model is a plain ``method="copula"`` model, so ``genesis_generate``, conditions, quality and lineage
treat it as any copula. Its lineage is a ``transform`` block ``federated_aggregate`` naming every
participating site with its rows fingerprint (taken by the site on its own rows) and identity key, how
the sum was formed and any DP spent, followed by the usual ``fit`` block pointing to it.
"""
from __future__ import annotations

import hashlib
from typing import Any

import duckdb

from genesis_sql._db import transaction
from genesis_sql.api import FitSummary
from genesis_sql.catalog import ModelRecord, save_model, validate_model_name
from genesis_sql.generation import RUNTIME
from genesis_sql.generation.row_function import register_model
from genesis_sql.lineage import drafts
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.models.copula import GaussianCopula


def sites_fingerprint(sites: dict[str, dict[str, Any]]) -> str:
    """One hash over the participating sites' names and rows fingerprints."""
    text = "\n".join(f"{site}:{info['rows_fingerprint']}" for site, info in sorted(sites.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def register_federated(con: duckdb.DuckDBPyConnection, name: str, model: GaussianCopula,
                       info: dict[str, Any]) -> FitSummary:
    """Store ``model`` as the next version of ``name`` with its federated lineage; returns the summary."""
    model_name = validate_model_name(name)
    state, arrays = model.to_state()
    sites = info["sites"]
    combined = sites_fingerprint(sites)
    record = ModelRecord(
        name=model_name, version=0, method=model.method, columns=[c.to_dict() for c in model.columns_],
        parameters=model.get_params(), state=state, arrays=arrays, training_rows=int(round(info["training_rows"])),
        source_sql=f"federated: {len(sites)} sites ({', '.join(sorted(sites))})", source_fingerprint=combined,
        fit_seconds=float(info["fit_seconds"]))
    params = {"sites": [{"site": s, **sites[s]} for s in sorted(sites)], "session": info["session"],
              "rounds": info["rounds"], "completed": info["completed"], "dropped": info["dropped"],
              "secure_aggregation": info["secure_aggregation"], "epsilon": info["epsilon"], "delta": info["delta"]}
    # The model and its lineage are stored together or not at all.
    with transaction(con):
        save_model(con, record)
        transform = drafts.transform_draft("federated_aggregate", params, rows_hash=combined,
                                           model=model_name).with_id()
        fit = drafts.fit_draft(model=model_name, version=record.version, method=record.method,
                               content_hash=record.content_hash, parameters=record.parameters,
                               training_rows=record.training_rows, source_block=transform.block_id,
                               fit_seconds=record.fit_seconds, training_fingerprint=combined)
        LineageChain.from_env(con).append(transform, fit)
    RUNTIME.remember_synthesizer(record.content_hash, model)
    register_model(con, record.content_hash, model.columns_)
    return FitSummary(model_name, record.version, record.method, tuple((c.name, c.kind) for c in model.columns_),
                      record.training_rows, record.fit_seconds)
