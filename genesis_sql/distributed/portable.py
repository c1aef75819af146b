"""Portable model files: one stored model version as one file of data, never pickles.

A ``.genesis`` file is an Arrow IPC file. Its schema metadata holds a JSON manifest (format, name,
version, method, columns, parameters, learned state, training rows, content hash, and the fit's lineage
block when the source database has one); its rows hold the model's numeric arrays (key, dtype, shape,
bytes). Opening one runs no code from it: arrays are decoded only for the catalog's numeric dtypes and
the method must be one this installation knows.

Importing recomputes the content hash over the manifest and arrays, so any edit to the file is refused;
with a trusted key (``trusted_key=`` or ``GENESIS_LINEAGE_PUBKEY``) the file must also carry a fit block
signed by that key that names the same content hash. The imported model has the same content hash, and
rows are a function of (content hash, seed, condition, row index), so it generates byte-identical rows.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from genesis_sql.catalog import (
    ModelRecord,
    decode_array,
    drop_model,
    encode_array,
    load_model,
    save_model,
    validate_model_name,
)
from genesis_sql.errors import CatalogError, LineageError
from genesis_sql.lineage import drafts
from genesis_sql.lineage.block import LineageBlock
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.signing import PublicKey, block_message, parse_signature, trusted_key
from genesis_sql.models import synthesizer_class
from genesis_sql.schema import ColumnSpec
from genesis_sql.generation.row_function import register_model

FORMAT = "genesis-model"
FORMAT_VERSION = 1
MANIFEST_KEY = b"genesis.manifest"
_ARRAY_SCHEMA = pa.schema([("key", pa.string()), ("dtype", pa.string()), ("shape", pa.list_(pa.int64())),
                           ("data", pa.large_binary())])


@dataclass(frozen=True)
class PortableModel:
    """A model file read and verified: the record to store and the fit block it came with (if any)."""

    record: ModelRecord
    fit_block: LineageBlock | None
    file_sha256: str


def export_model(con: duckdb.DuckDBPyConnection, ref: str, path: str | os.PathLike[str]) -> Path:
    """Write model version ``ref`` (``'m'`` for the latest, ``'m@N'``) to one portable file at ``path``.

    The file appears complete or not at all (written under a temporary name, then renamed).
    """
    record = load_model(con, ref)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with pa.OSFile(str(temporary), "wb") as sink:
            sink.write(model_bytes(record, _fit_block(con, record.content_hash)))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def model_bytes(record: ModelRecord, fit_block: LineageBlock | None = None) -> bytes:
    """The portable file's bytes for ``record`` (what :func:`export_model` writes)."""
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": record.name, "version": record.version,
        "method": record.method, "columns": record.columns, "parameters": record.parameters, "state": record.state,
        "training_rows": record.training_rows, "source_fingerprint": record.source_fingerprint,
        "fit_seconds": record.fit_seconds, "content_hash": record.content_hash,
        "fit_block": fit_block.as_dict() if fit_block is not None else None,
    }
    encoded = [(key, *encode_array(record.arrays[key])) for key in sorted(record.arrays)]
    table = pa.table({"key": [e[0] for e in encoded], "dtype": [e[1] for e in encoded],
                      "shape": [e[2] for e in encoded], "data": [e[3] for e in encoded]}, schema=_ARRAY_SCHEMA)
    table = table.replace_schema_metadata({MANIFEST_KEY: json.dumps(manifest, sort_keys=True).encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_model(data: bytes, *, key: PublicKey | None = None) -> PortableModel:
    """Parse and verify a portable file's bytes (see the module docstring).

    Raises:
        CatalogError: not a genesis model file, tampered with, an unknown method, or (with ``key``) not
            signed by that key.
    """
    try:
        table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
        manifest = json.loads((table.schema.metadata or {})[MANIFEST_KEY])
    except (pa.ArrowInvalid, KeyError, ValueError, TypeError) as exc:
        raise CatalogError(f"This is not a genesis model file (export one with `genesis export`): {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CatalogError("This is not a genesis model file (export one with `genesis export`).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CatalogError(f"This model file has format version {manifest.get('format_version')!r}; this "
                           f"installation reads version {FORMAT_VERSION}. Upgrade genesis-sql to import it.")
    if table.schema != _ARRAY_SCHEMA.with_metadata(table.schema.metadata):
        raise CatalogError("This model file's arrays are not in the genesis layout (key, dtype, shape, data).")
    try:
        arrays = {row["key"]: decode_array(row["dtype"], row["shape"], row["data"]) for row in table.to_pylist()}
        record = ModelRecord(
            name=manifest["name"], version=int(manifest["version"]), method=manifest["method"],
            columns=manifest["columns"], parameters=manifest["parameters"], state=manifest["state"], arrays=arrays,
            training_rows=int(manifest["training_rows"]), source_sql=f"imported {manifest['name']}@{manifest['version']}",
            source_fingerprint=manifest["source_fingerprint"], fit_seconds=float(manifest["fit_seconds"]),
            content_hash=manifest["content_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"This model file's manifest is incomplete or malformed: {exc!r}.") from exc
    if record.compute_content_hash() != record.content_hash:
        raise CatalogError("This model file was altered: its content does not match its content hash "
                           f"{str(record.content_hash)[:16]}. Export the model again from its source database.")
    synthesizer_class(record.method)
    fit_block = _checked_fit_block(manifest.get("fit_block"), record.content_hash, key)
    return PortableModel(record, fit_block, hashlib.sha256(data).hexdigest())


def import_model(con: duckdb.DuckDBPyConnection, path: str | os.PathLike[str], *, name: str | None = None,
                 trusted_key_path: str | os.PathLike[str] | None = None) -> ModelRecord:
    """Verify the model file at ``path`` and store it as the next version of its name (or ``name``).

    With a trusted key (``trusted_key_path``, else ``GENESIS_LINEAGE_PUBKEY``) the file must carry a fit
    block signed by that key. Lineage records the import (the file's SHA-256 and the origin's fit block
    hash) and a fit block for the new version.
    """
    portable = read_model(Path(path).read_bytes(), key=trusted_key(trusted_key_path))
    record = portable.record
    if name is not None:
        record.name = validate_model_name(name)
    columns = [ColumnSpec.from_dict(c) for c in record.columns]
    synthesizer_class(record.method).from_state(record.parameters, columns, record.state, record.arrays)
    origin = {"file": str(path), "file_sha256": portable.file_sha256, "content_hash": record.content_hash,
              "origin_fit_block_hash": portable.fit_block.hash if portable.fit_block else None}
    save_model(con, record)
    try:
        transform = drafts.transform_draft("import_model", origin, model=record.name).with_id()
        fit = drafts.fit_draft(model=record.name, version=record.version, method=record.method,
                               content_hash=record.content_hash, parameters=record.parameters,
                               training_rows=record.training_rows, source_block=transform.block_id,
                               fit_seconds=record.fit_seconds, training_fingerprint=record.source_fingerprint)
        LineageChain.from_env(con).append(transform, fit)
    except BaseException:
        drop_model(con, record.ref)
        raise
    register_model(con, record.content_hash, columns)
    return record


def _fit_block(con: duckdb.DuckDBPyConnection, content_hash: str) -> LineageBlock | None:
    """The newest fit block recording ``content_hash``, if the chain has one."""
    rows = con.execute(
        "SELECT seq, block_id, block_type, timestamp, previous_hash, data_hash, content, hash, signature "
        "FROM genesis.lineage WHERE block_type = 'fit' AND data_hash = ? ORDER BY seq DESC LIMIT 1",
        [content_hash]).fetchall()
    return LineageBlock.from_row(rows[0]) if rows else None


def _checked_fit_block(data: Any, content_hash: str, key: PublicKey | None) -> LineageBlock | None:
    """The file's fit block, checked: intact, naming this content, and signed by ``key`` when one is pinned."""
    if data is None:
        if key is not None:
            raise CatalogError("This model file carries no signed fit block, and a trusted key is pinned: export "
                               "it from a database whose lineage is signed (GENESIS_LINEAGE_KEY).")
        return None
    try:
        block = LineageBlock.from_dict(data)
    except LineageError as exc:
        raise CatalogError(f"This model file's fit block is malformed: {exc}") from exc
    if not block.verify() or block.block_type != "fit" or block.payload.get("content_hash") != content_hash:
        raise CatalogError("This model file's fit block was altered or belongs to another model version.")
    if key is not None:
        try:
            signer, signature = parse_signature(block.signature or "")
        except LineageError as exc:
            raise CatalogError(f"This model file's fit block is not signed ({exc}); a trusted key is pinned.") from exc
        if signer != key.hex or not key.verify(block_message(block.hash), signature):
            raise CatalogError(f"This model file is not signed by the trusted key {key.fingerprint}.")
    return block
