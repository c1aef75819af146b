"""Partitioned generation on a Dask cluster: each task makes rows [start, start + count) from the portable
model file and writes one Parquet part; the parts, in order, are exactly the single-process output.

Dask (scheduler and workers are its own processes) schedules the tasks and retries those whose worker
died; genesis only cuts the request into row ranges. A part is written under a temporary name and
renamed when complete (an object store's upload appears only when complete), and it is a function of
(model, seed, condition, row range), so a retried task writes the same bytes again: no duplicates, no
gaps. The client never generates rows: with no workers it fails after a bounded wait.

Cutting a request into ranges (:func:`part_ranges`), running one task per range (:func:`cluster_client`,
:func:`run_parts`) and recording the job (:func:`record_job`) serve :mod:`genesis_sql.distributed.stream`
too, whose tasks produce their rows to Kafka instead of writing files.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import duckdb
import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from genesis_sql.generation import GenerationPlan, generate_batches, plan_generation
from genesis_sql.generation.batches import BATCH_ROWS
from genesis_sql.catalog import load_model
from genesis_sql.conditions import ConditionSet, parse_condition
from genesis_sql.distributed.portable import _fit_block, model_bytes, read_model
from genesis_sql.errors import DistributedError, InvalidArgumentError
from genesis_sql.lineage import drafts
from genesis_sql.lineage.chain import LineageChain
from genesis_sql.lineage.fingerprint import BatchFingerprint, fingerprint_from_sums
from genesis_sql.models import synthesizer_class
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

WORKER_WAIT_SECONDS = 30.0
TASK_RETRIES = 3
_TEMPORARY_PREFIX = ".genesis-part-"
T = TypeVar("T")


class PartRows(Protocol):
    """What lineage needs of a finished part: its rows, their columns and the sum of their row hashes."""

    rows: int
    columns: tuple[str, ...]
    hash_sum: int


@dataclass(frozen=True)
class PartResult:
    """What one task wrote: its part number, rows, the file's SHA-256 and its rows' fingerprint sums."""

    index: int
    start: int
    rows: int
    path: str
    sha256: str
    columns: tuple[str, ...]
    hash_sum: int


@dataclass(frozen=True)
class DistributedResult:
    """A finished job: the plan it ran, where the parts are, and each part."""

    plan: GenerationPlan
    destination: str
    parts: tuple[PartResult, ...]

    @property
    def rows(self) -> int:
        """Rows written over all parts."""
        return sum(part.rows for part in self.parts)


def part_ranges(n: int, partitions: int, grid: int = BATCH_ROWS) -> list[tuple[int, int]]:
    """(start, count) of at most ``partitions`` near-equal consecutive row ranges covering [0, n), cut on
    multiples of ``grid`` rows: the batch grid every genesis output is made on (a conditional sampler
    draws a piece of rows together, so a range must start where a single-process batch would)."""
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InvalidArgumentError(f"partitions must be a whole number of parts, 1 or more. Got {partitions!r}.")
    inner = np.unique(np.round(np.linspace(0, n, partitions + 1)[1:-1] / grid).astype(np.int64) * grid)
    edges = [0, *(int(c) for c in inner if 0 < c < n), n]
    return [(a, b - a) for a, b in zip(edges[:-1], edges[1:])]


def part_name(index: int) -> str:
    """The file name of part ``index`` (zero-padded, so names sort in row order)."""
    return f"part-{index:05d}.parquet"


def part_plan(model: bytes, seed: int, condition: str, start: int,
              count: int) -> tuple[GenerationPlan, BaseSynthesizer]:
    """The plan and synthesizer that make rows [start, start + count) of a request, from the model file's bytes
    alone (on a worker: nothing is read from the client's database)."""
    record = read_model(model).record
    columns = [ColumnSpec.from_dict(c) for c in record.columns]
    synthesizer = synthesizer_class(record.method).from_state(record.parameters, columns, record.state,
                                                              record.arrays)
    conditions = parse_condition(condition, columns) if condition else ConditionSet()
    plan = GenerationPlan(record.name, record.version, record.content_hash, start + count, seed, conditions)
    return plan, synthesizer


def generate_part(model: bytes, seed: int, condition: str, index: int, start: int, count: int,
                  destination: str) -> PartResult:
    """Make rows [start, start + count) of the request and write them as part ``index`` of ``destination``.

    Runs on a worker: everything it needs travels in its arguments (the model file's bytes included).
    """
    plan, synthesizer = part_plan(model, seed, condition, start, count)
    filesystem, base = pafs.FileSystem.from_uri(destination)
    final = f"{base.rstrip('/')}/{part_name(index)}"
    atomic_rename = isinstance(filesystem, pafs.LocalFileSystem)
    target = f"{base.rstrip('/')}/{_TEMPORARY_PREFIX}{index:05d}-{uuid.uuid4().hex}.tmp" if atomic_rename else final
    fingerprint = BatchFingerprint(duckdb.connect())
    rows = 0
    try:
        with filesystem.open_output_stream(target) as stream:
            writer = pq.ParquetWriter(stream, synthesizer.output_schema)
            for table in fingerprint.wrap(generate_batches(plan, synthesizer, batch_size=BATCH_ROWS, start=start)):
                writer.write_table(table)
                rows += table.num_rows
            writer.close()
        if atomic_rename:
            filesystem.move(target, final)
    finally:
        fingerprint.con.close()
        if atomic_rename and filesystem.get_file_info(target).type != pafs.FileType.NotFound:
            filesystem.delete_file(target)
    digest = hashlib.sha256()
    with filesystem.open_input_stream(final) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return PartResult(index, start, rows, final, digest.hexdigest(), tuple(fingerprint.columns), fingerprint.total)


def generate_distributed(con: duckdb.DuckDBPyConnection, model: str, n: object, *, scheduler: str,
                         destination: str, partitions: int, seed: object = None, condition: str | None = None,
                         worker_wait: float = WORKER_WAIT_SECONDS, retries: int = TASK_RETRIES) -> DistributedResult:
    """Generate ``n`` rows of ``model`` on the Dask cluster at ``scheduler`` into Parquet parts under
    ``destination`` (a folder, or an object-store URL such as ``s3://bucket/prefix``).

    The request is validated here (model, n, seed, condition) before anything is submitted; a lineage
    block records the whole job with each part's SHA-256.

    Raises:
        DistributedError: the scheduler cannot be reached, has no workers within ``worker_wait`` seconds,
            or a part failed after ``retries`` retries.
    """
    plan, _ = plan_generation(con, model, n, seed=seed, condition=condition)
    ranges = part_ranges(plan.n, partitions)
    data = model_bytes(load_model(con, plan.ref), _fit_block(con, plan.content_hash))
    filesystem, base = pafs.FileSystem.from_uri(destination)
    filesystem.create_dir(base, recursive=True)
    with cluster_client(scheduler, worker_wait) as client:
        results = run_parts(client, data, plan, ranges, generate_part, (destination,), job=uuid.uuid4().hex[:12],
                            retries=retries)
    _remove_leftovers(filesystem, base)
    result = DistributedResult(plan, destination, tuple(sorted(results, key=lambda p: p.index)))
    _record(con, result)
    return result


@contextlib.contextmanager
def cluster_client(scheduler: str, worker_wait: float) -> Iterator[Client]:
    """A Dask client of the scheduler at ``scheduler`` that has at least one worker, closed afterwards.

    Raises:
        DistributedError: the scheduler cannot be reached, or has no workers within ``worker_wait`` seconds.
    """
    from distributed import Client

    try:
        client = Client(scheduler, timeout=worker_wait)
    except (OSError, TimeoutError) as exc:
        raise DistributedError(f"Cannot reach the Dask scheduler at {scheduler} ({exc}). Start one with "
                               "`dask scheduler` and pass its address, e.g. tcp://127.0.0.1:8786.") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=worker_wait)
        except TimeoutError as exc:
            raise DistributedError(f"The Dask scheduler at {scheduler} has no workers after {worker_wait:g} s; "
                                   f"start some with `dask worker {scheduler}`.") from exc
        yield client


def run_parts(client: Client, data: bytes, plan: GenerationPlan, ranges: list[tuple[int, int]],
              task: Callable[..., T], arguments: tuple, *, job: str, retries: int) -> list[T]:
    """Run ``task(model, seed, condition, index, start, count, *arguments)`` for each range on the cluster,
    the model file's bytes registered once on every worker; the tasks' results, in the order they finish.

    Each result is fetched and released as soon as its task finishes, so a worker that dies later does not
    take finished parts with it (Dask would run them again).

    Raises:
        DistributedError: a task failed after ``retries`` retries.
    """
    from distributed import as_completed

    from genesis_sql.distributed._model_file import ModelFile, with_model

    name = f"genesis-{job}-model"
    client.register_plugin(ModelFile(data), name=name)
    try:
        futures = [client.submit(with_model, name, task, plan.seed, plan.condition_sql, index, start, count,
                                 *arguments, key=f"genesis-{job}-{index:05d}", retries=retries, pure=False)
                   for index, (start, count) in enumerate(ranges)]
        results = []
        try:
            for future, result in as_completed(futures, with_results=True):
                results.append(result)
                future.release()
        except Exception as exc:
            raise DistributedError(f"A part of the job failed after {retries} retries: {exc}") from exc
        return results
    finally:
        client.unregister_worker_plugin(name)


def _remove_leftovers(filesystem: pafs.FileSystem, base: str) -> None:
    """Delete temporary part files that a killed worker left behind (its retry wrote the part again)."""
    for info in filesystem.get_file_info(pafs.FileSelector(base)):
        if info.base_name.startswith(_TEMPORARY_PREFIX):
            filesystem.delete_file(info.path)


def _record(con: duckdb.DuckDBPyConnection, result: DistributedResult) -> None:
    """The job's lineage, each part with its file's SHA-256."""
    parts = [{"part": p.index, "start": p.start, "rows": p.rows, "sha256": p.sha256} for p in result.parts]
    record_job(con, result.plan, "distributed_generation", {"destination": result.destination, "parts": parts},
               result.parts, destination=result.destination)


def record_job(con: duckdb.DuckDBPyConnection, plan: GenerationPlan, operation: str, params: dict[str, Any],
               parts: Sequence[PartRows], *, destination: str) -> None:
    """One transform block for the whole job (``operation`` with ``params``: its parts) and one generation
    block with the fingerprint of every part's rows together (what one process's output would have)."""
    rows = sum(p.rows for p in parts)
    columns = next((p.columns for p in parts if p.columns), ())
    fingerprint = fingerprint_from_sums(list(columns), rows, sum(p.hash_sum for p in parts))
    job = drafts.transform_draft(operation, params, model=plan.name).with_id()
    generation = drafts.generation_draft(model=plan.name, version=plan.version, content_hash=plan.content_hash,
                                         n=plan.n, seed=plan.seed, conditions=plan.condition_sql,
                                         fingerprint=fingerprint, destination=destination)
    LineageChain.from_env(con).append(job, generation)
    log.info("%s: %d rows in %d parts to %s", plan.ref, rows, len(parts), destination)
