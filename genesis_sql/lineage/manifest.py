"""The per-model view of the chain: DataLineage records for one model, LineageManifest shows its history.

A block belongs to a model when its content says ``"model": name``. The manifest orders them as the data
flowed: sources -> transforms -> fits -> generations -> quality checks.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from genesis_sql.catalog import parse_model_ref
from genesis_sql.lineage import store
from genesis_sql.lineage.block import LineageBlock
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.fingerprint import query_fingerprint


@dataclass(frozen=True)
class LineageManifest:
    """Every block of one model (optionally one version), by kind, each kind in seq order."""

    model: str
    version: int | None
    sources: tuple[LineageBlock, ...]
    transforms: tuple[LineageBlock, ...]
    fits: tuple[LineageBlock, ...]
    generations: tuple[LineageBlock, ...]
    quality_checks: tuple[LineageBlock, ...]

    @property
    def blocks(self) -> tuple[LineageBlock, ...]:
        """All of the model's blocks in seq order."""
        every = self.sources + self.transforms + self.fits + self.generations + self.quality_checks
        return tuple(sorted(every, key=lambda block: block.seq))

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-ready data: per kind, each block's position, id, time, hash and content."""
        def entry(block: LineageBlock) -> dict[str, Any]:
            return {"seq": block.seq, "block_id": block.block_id, "timestamp": block.timestamp,
                    "hash": block.hash, "signed": block.signature is not None, "content": block.payload}

        return {"model": self.model, "version": self.version,
                **{kind: [entry(b) for b in getattr(self, kind)]
                   for kind in ("sources", "transforms", "fits", "generations", "quality_checks")}}

    def render(self) -> str:
        """A text tree for people: each source, the fits trained on it, their generations and quality checks."""
        title = self.model if self.version is None else f"{self.model}@{self.version}"
        if not self.blocks:
            return f"{title}: no lineage recorded"
        lines = [f"{title}: {len(self.sources)} sources, {len(self.transforms)} transforms, {len(self.fits)} fits, "
                 f"{len(self.generations)} generations, {len(self.quality_checks)} quality checks"]
        shown: set[str] = set()
        for source in self.sources:
            lines.append(_line(source))
            for transform in self.transforms:
                if source.block_id in transform.payload.get("inputs", []):
                    lines.append("  " + _line(transform))
                    shown.add(transform.block_id)
            for fit in self.fits:
                if fit.payload.get("source_block") == source.block_id:
                    lines.extend(self._fit_lines(fit, "  "))
                    shown.add(fit.block_id)
        rest = [b for b in self.transforms + self.fits if b.block_id not in shown]
        for block in rest:
            lines.extend(self._fit_lines(block, "") if block.block_type == "fit" else [_line(block)])
        return "\n".join(lines)

    def _fit_lines(self, fit: LineageBlock, indent: str) -> list[str]:
        version = fit.payload.get("version")
        children = [b for b in self.generations + self.quality_checks if b.payload.get("version") == version]
        return [indent + _line(fit)] + [indent + "  " + _line(b) for b in sorted(children, key=lambda b: b.seq)]


def _line(block: LineageBlock) -> str:
    data = block.payload
    head = f"{block.block_type:<10} seq {block.seq:<6} {block.timestamp}  "
    if block.block_type == "source":
        body = f"{data.get('query')!s:.80}  ({data.get('row_count'):,} rows, fingerprint {str(data.get('rows_hash'))[:12]})"
    elif block.block_type == "transform":
        body = f"{data.get('operation')} {data.get('params')}"
    elif block.block_type == "fit":
        body = (f"{data.get('model')}@{data.get('version')} {data.get('method')} on {data.get('training_rows'):,} "
                f"rows, content {str(data.get('content_hash'))[:12]}, parameters {str(data.get('parameters_hash'))[:12]}")
    elif block.block_type == "generation":
        where = f" where {data['conditions']}" if data.get("conditions") else ""
        body = (f"n={data.get('n'):,} seed={data.get('seed')}{where} -> {data.get('destination')} "
                f"({data.get('row_count'):,} rows, fingerprint {str(data.get('rows_hash'))[:12]})")
    else:
        verdict = {True: "passed", False: "failed", None: "no verdict"}[data.get("passed")]
        body = f"run {data.get('run_id')} {verdict} {data.get('metrics')}"
    signed = "" if block.signature is None else "  [signed]"
    return f"{head}{body}{signed}"


class DataLineage:
    """Lineage of one model: record what fed it, read its manifest.

    Args:
        chain: The chain to read and append to.
        model: The model name (``'m'``), or one version (``'m@N'``) to read.
    """

    def __init__(self, chain: LineageChain, model: str) -> None:
        self.chain = chain
        self.model, self.version = parse_model_ref(model)

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, model: str) -> DataLineage:
        """The lineage of ``model`` in ``con``'s database, appending with the ``GENESIS_LINEAGE_KEY`` key."""
        return cls(LineageChain.from_env(con), model)

    def record_source(self, name: str, query: str) -> LineageBlock:
        """Record a source of the model: the query, its row count and rows fingerprint (computed in DuckDB)."""
        fingerprint = query_fingerprint(self.chain.con, query)
        return self.chain.add_source_block(name=name, query=query, fingerprint=fingerprint, model=self.model)

    def record_transformation(self, operation: str, params: Mapping[str, Any] | None = None, *,
                              inputs: Sequence[str] = ()) -> LineageBlock:
        """Record a transformation on the way to the model (``inputs``: block ids it read)."""
        return self.chain.add_transform_block(operation, params, inputs=inputs, model=self.model)

    def create_manifest(self) -> LineageManifest:
        """The model's blocks as a manifest (one version's fits, generations and checks with ``@N``)."""
        found = store.read_blocks(self.chain.con, where="WHERE json_extract_string(content, '$.model') = ?",
                                  params=[self.model])
        if self.version is not None:
            fits = [b for b in found if b.block_type == "fit" and b.payload.get("version") == self.version]
            sources = {b.payload.get("source_block") for b in fits}
            found = [b for b in found if b.payload.get("version") == self.version or b.block_id in sources]

        def kind(block_type: str) -> tuple[LineageBlock, ...]:
            return tuple(b for b in found if b.block_type == block_type)

        return LineageManifest(self.model, self.version, kind("source"), kind("transform"), kind("fit"),
                               kind("generation"), kind("quality"))

