"""OpenLineage export: each fit, generation and quality block of a model as a START and a COMPLETE run event.

Events follow the OpenLineage 2-0-2 ``RunEvent`` (eventType, eventTime, producer, schemaURL, run, job,
inputs, outputs), with the standard ``jobType``, ``sql`` (fits), ``version`` (datasets) and
``outputStatistics`` (generated rows) facets, plus a custom run facet ``genesis`` that ties the event to
the chain: model, version, model content hash, seed, n, conditions, rows fingerprint, and the block's
id, seq and hash. The run id is the block id, so a consumer can find the block and verify it.

Datasets: a training query is ``query/<sha256 of its text, 16 hex>``, a model ``model/<name>`` (its
version facet is the content hash), synthetic output ``synthetic/<model>/<destination>``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from genesis_sql._version import __version__
from genesis_sql.lineage.block import LineageBlock
from genesis_sql.lineage.manifest import LineageManifest

NAMESPACE = "genesis-sql"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
GENESIS_FACET_SCHEMA_URL = "urn:genesis-sql:facets:GenesisRunFacet:1"
_FACET_SCHEMAS = {
    "jobType": "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "sql": "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet",
    "version": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
               "#/$defs/DatasetVersionDatasetFacet",
    "outputStatistics": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
                        "#/$defs/OutputStatisticsOutputDatasetFacet",
}
_JOB_TYPES = {"fit": "FIT", "generation": "GENERATE", "quality": "EVALUATE"}


def _producer() -> str:
    return f"urn:genesis-sql:{__version__}"


def _facet(kind: str, producer: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": _FACET_SCHEMAS.get(kind, GENESIS_FACET_SCHEMA_URL), **fields}


def _run_id(block: LineageBlock) -> str:
    try:
        return str(uuid.UUID(block.block_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:genesis-sql:block:{block.block_id}"))


def _event_time(timestamp: str, seconds_before: float = 0.0) -> str:
    moment = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    moment -= dt.timedelta(seconds=seconds_before)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dataset(name: str, producer: str, version: str | None = None, **extra: Any) -> dict[str, Any]:
    dataset: dict[str, Any] = {"namespace": NAMESPACE, "name": name}
    if version is not None:
        dataset["facets"] = {"version": _facet("version", producer, datasetVersion=version)}
    dataset.update(extra)
    return dataset


def _io(block: LineageBlock, manifest: LineageManifest, producer: str) -> tuple[list[dict], list[dict], dict]:
    """(inputs, outputs, job facets) of one block."""
    data, model = block.payload, manifest.model
    if block.block_type == "fit":
        source = next((s for s in manifest.sources if s.block_id == data.get("source_block")), None)
        inputs = []
        job = {}
        if source is not None:
            query = source.payload["query"]
            digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:16]
            inputs = [_dataset(f"query/{digest}", producer, source.payload["rows_hash"])]
            job = {"sql": _facet("sql", producer, query=query)}
        return inputs, [_dataset(f"model/{model}", producer, data["content_hash"])], job
    model_input = [_dataset(f"model/{model}", producer, data.get("content_hash"))]
    if block.block_type == "generation":
        stats = {"outputStatistics": _facet("outputStatistics", producer, rowCount=data["row_count"])}
        output = _dataset(f"synthetic/{model}/{data['destination']}", producer, data["rows_hash"], outputFacets=stats)
        return model_input, [output], {}
    return model_input, [], {}


def _genesis_facet(block: LineageBlock, producer: str) -> dict[str, Any]:
    data = block.payload
    fields = {key: data.get(key) for key in ("model", "version", "content_hash", "seed", "n", "conditions",
                                             "rows_hash", "run_id", "passed") if key in data}
    return _facet("genesis", producer, **fields, block_id=block.block_id, block_seq=block.seq,
                  block_hash=block.hash, block_type=block.block_type, signed=block.signature is not None)


def openlineage_events(manifest: LineageManifest) -> list[dict[str, Any]]:
    """START and COMPLETE run events for each fit, generation and quality block of the manifest, in seq order."""
    producer = _producer()
    events = []
    for block in manifest.blocks:
        if block.block_type not in _JOB_TYPES:
            continue
        inputs, outputs, job_facets = _io(block, manifest, producer)
        job_type = _facet("jobType", producer, processingType="BATCH", integration="GENESIS_SQL",
                          jobType=_JOB_TYPES[block.block_type])
        job = {"namespace": NAMESPACE, "name": f"{manifest.model}.{block.block_type}",
               "facets": {"jobType": job_type, **job_facets}}
        run = {"runId": _run_id(block), "facets": {"genesis": _genesis_facet(block, producer)}}
        started = _event_time(block.timestamp, float(block.payload.get("fit_seconds") or 0.0))
        for event_type, when in (("START", started), ("COMPLETE", _event_time(block.timestamp))):
            events.append({"eventType": event_type, "eventTime": when, "producer": producer,
                           "schemaURL": SCHEMA_URL, "run": run, "job": job, "inputs": inputs, "outputs": outputs})
    return events
