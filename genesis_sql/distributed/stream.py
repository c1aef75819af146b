"""Streaming at scale: a bounded stream of ``n`` rows produced to Kafka by the tasks of a Dask job.

Each task makes rows [start, start + count) of the request from the portable model file, exactly as
:mod:`genesis_sql.distributed.jobs` cuts them, and produces them to the topic with an idempotent
producer of its own. Messages are those of the single-process stream (``genesis stream --kafka``): one
JSON object per row, encoded by the same :class:`~genesis_sql.streaming.encoding.RowEncoder`, keyed by
``key_column`` when one is given; librdkafka's partitioner spreads them over the topic's partitions.
A job's ``rate`` (rows per second) is shared by its parts, each pacing itself with a token bucket.

Exactly the requested rows, with per-part idempotent keys. Every message carries a row id, the header
``genesis-row`` = ``<job>/<part>/<offset>`` (``offset`` counts the part's rows from 0; ordering by part,
then offset, gives the single-process order). Without ``key_column`` the row id is the message key too.
A task's rows are a function of (model, seed, condition, row range), so when Dask runs a part again
(its worker died, or the task failed and is retried) the retry produces byte-identical messages with the
same row ids. The topic then holds every row id at least once; the only duplicates are copies of what
a part's earlier attempt had produced, and a consumer that keeps the first message of each row id reads
exactly the ``n`` rows of the single-process stream. Without ``key_column`` that is deduplication by
key, so a compacted topic (``cleanup.policy=compact``) also drops the copies on the broker's side.

Why not Kafka transactions. A transactional producer per part (``transactional.id`` stable across
retries, consumers on ``read_committed``) would hide a dead attempt's messages, but librdkafka's mock
cluster, the Kafka-protocol broker the tests run against, accepts the transactional calls and does not
implement aborts: ``read_committed`` consumers still read aborted messages, so such a design could not be
tested here. Transactions alone are also not enough: a task that commits and dies before Dask hears of
it is run again and would commit its rows twice, unless it also committed its progress and read it back.
Row ids work with any broker and any consumer.

The client validates the request, checks that Kafka answers (the topic is created there when the cluster
creates topics on first use), runs the tasks and writes one lineage block for the whole job with each
part's row count; the generation block's fingerprint is that of the ``n`` distinct rows, the same as a
single-process stream of them records.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

from genesis_sql.catalog import load_model
from genesis_sql.distributed.jobs import (
    TASK_RETRIES,
    WORKER_WAIT_SECONDS,
    cluster_client,
    part_plan,
    part_ranges,
    record_job,
    run_parts,
)
from genesis_sql.distributed.portable import _fit_block, model_bytes
from genesis_sql.generation import GenerationPlan, generate_batches, plan_generation
from genesis_sql.generation.batches import BATCH_ROWS
from genesis_sql.streaming.config import StreamingConfig
from genesis_sql.streaming.encoding import RowEncoder
from genesis_sql.streaming.kafka import KafkaWriter
from genesis_sql.streaming.lineage import StreamFingerprint
from genesis_sql.streaming.rate import TokenBucket, slice_rows

# The message header holding each row's id, ``<job>/<part>/<offset>``.
ROW_HEADER = "genesis-row"


@dataclass(frozen=True)
class KafkaTarget:
    """Where and how a job's tasks produce: the cluster, the topic, the key column, the producer settings and
    each part's target rows per second (None: as fast as its worker can)."""

    job: str
    bootstrap_servers: str
    topic: str
    key_column: str | None = None
    producer_config: Mapping[str, Any] = field(default_factory=dict)
    connect_timeout: float = 10.0
    flush_timeout: float = 60.0
    part_rate: float | None = None

    @property
    def destination(self) -> str:
        """``kafka://<bootstrap servers>/<topic>``, as lineage records it."""
        return f"kafka://{self.bootstrap_servers}/{self.topic}"

    def writer(self) -> KafkaWriter:
        """A producer for this target (not yet open)."""
        return KafkaWriter(self.bootstrap_servers, self.topic, producer_config=self.producer_config,
                           connect_timeout=self.connect_timeout, flush_timeout=self.flush_timeout)


@dataclass(frozen=True)
class StreamPartResult:
    """What one task produced: its part number, first row, rows (messages), columns and row-hash sum."""

    index: int
    start: int
    rows: int
    columns: tuple[str, ...]
    hash_sum: int


@dataclass(frozen=True)
class DistributedStreamResult:
    """A finished job: its plan, its id (the first field of every row id), where it went, and each part."""

    plan: GenerationPlan
    job: str
    destination: str
    parts: tuple[StreamPartResult, ...]

    @property
    def rows(self) -> int:
        """Distinct rows produced over all parts."""
        return sum(part.rows for part in self.parts)


def row_ids(job: str, part: int, first: int, count: int) -> list[str]:
    """The row ids of a part's rows ``first`` to ``first + count - 1`` (offsets within the part)."""
    prefix = f"{job}/{part}/"
    return [f"{prefix}{offset}" for offset in range(first, first + count)]


def stream_part(model: bytes, seed: int, condition: str, index: int, start: int, count: int,
                target: KafkaTarget) -> StreamPartResult:
    """Make rows [start, start + count) of the request and produce them to ``target`` as part ``index``.

    Runs on a worker: everything it needs travels in its arguments (the model file's bytes included).
    Returns once the broker acknowledged every message.

    Raises:
        IntegrationError: Kafka did not answer, or did not acknowledge every message.
    """
    plan, synthesizer = part_plan(model, seed, condition, start, count)
    encoder = RowEncoder(synthesizer.output_schema, key_column=target.key_column)
    produced = StreamFingerprint(synthesizer.output_schema.names)
    size = slice_rows(target.part_rate, BATCH_ROWS)
    bucket = None if target.part_rate is None else TokenBucket(target.part_rate, burst=size)
    writer = target.writer()
    try:
        writer.open()
        for table in generate_batches(plan, synthesizer, batch_size=BATCH_ROWS, start=start):
            batch = encoder.encode(table)
            ids = row_ids(target.job, index, produced.rows, batch.num_rows)
            for first in range(0, batch.num_rows, size):
                piece, piece_ids = batch.slice(first, first + size), ids[first:first + size]
                if bucket is not None:
                    time.sleep(bucket.reserve(piece.num_rows))
                writer.send(piece.messages, piece_ids if piece.keys is None else piece.keys,
                            [[(ROW_HEADER, row_id.encode())] for row_id in piece_ids])
                if writer.error is not None:
                    raise writer.error
            produced.add(batch)
    finally:
        encoder.close()
        writer.close()
    if writer.error is not None:
        raise writer.error
    return StreamPartResult(index, start, produced.rows, tuple(produced.columns), produced.hash_sum)


def stream_distributed(con: duckdb.DuckDBPyConnection, model: str, n: object, *, scheduler: str,
                       bootstrap_servers: str, topic: str, partitions: int, seed: object = None,
                       condition: str | None = None, key_column: str | None = None, rate: float | None = None,
                       producer_config: Mapping[str, Any] | None = None, worker_wait: float = WORKER_WAIT_SECONDS,
                       retries: int = TASK_RETRIES, connect_timeout: float = 10.0) -> DistributedStreamResult:
    """Stream ``n`` rows of ``model`` into Kafka topic ``topic`` from the Dask cluster at ``scheduler``,
    in ``partitions`` parts (see the module docstring for the messages and their row ids).

    The request is validated here (model, n, seed, condition, partitions, key column, rate) and Kafka is
    asked for the topic's metadata before anything is submitted.

    Args:
        rate: Target rows per second of the whole job, shared evenly by the parts that can run at once
            (the fewer of the parts and the cluster's worker threads when the job starts); None produces as
            fast as the workers can.
        producer_config: librdkafka settings for every task's producer, passed through over the defaults.

    Raises:
        IntegrationError: Kafka did not answer within ``connect_timeout`` seconds.
        DistributedError: the scheduler cannot be reached, has no workers within ``worker_wait`` seconds,
            or a part failed after ``retries`` retries.
    """
    plan, synthesizer = plan_generation(con, model, n, seed=seed, condition=condition)
    ranges = part_ranges(plan.n, partitions)
    RowEncoder(synthesizer.output_schema, json=False, key_column=key_column).close()  # checks the key column
    StreamingConfig(rate=rate)  # checks the rate
    target = KafkaTarget(uuid.uuid4().hex[:12], bootstrap_servers, topic, key_column, dict(producer_config or {}),
                         connect_timeout)
    target.writer().open().close()  # Kafka answers (and creates the topic where topics are made on first use)
    data = model_bytes(load_model(con, plan.ref), _fit_block(con, plan.content_hash))
    with cluster_client(scheduler, worker_wait) as client:
        if rate is not None:
            target = replace(target, part_rate=rate / min(len(ranges), sum(client.nthreads().values())))
        results = run_parts(client, data, plan, ranges, stream_part, (target,), job=target.job, retries=retries)
    result = DistributedStreamResult(plan, target.job, target.destination,
                                     tuple(sorted(results, key=lambda p: p.index)))
    parts = [{"part": p.index, "start": p.start, "rows": p.rows} for p in result.parts]
    record_job(con, plan, "distributed_stream",
               {"destination": target.destination, "job": target.job, "row_header": ROW_HEADER,
                "key_column": key_column, "rate": rate, "parts": parts}, result.parts, destination=target.destination)
    return result
