"""Streaming at scale on a real Dask cluster (a scheduler and two worker processes started with Dask's own
CLI) into librdkafka's mock cluster (a process of its own): the job's rows, deduplicated by row id, are
exactly n and equal the single-process stream's, conditions included, even when a worker is killed
mid-part; a scheduler without workers is a clear error.

The mock cluster keeps about 5 MB per partition and drops older messages, so every topic is read by a
consumer that runs while the rows are produced (:class:`TopicReader`), the streams are paced (``RATE``)
so that it keeps up on a busy machine, and it must read as many messages as the partitions' high
watermarks say were appended.
"""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.cli import cli
from genesis_sql.distributed.jobs import part_ranges
from genesis_sql.distributed.stream import ROW_HEADER, stream_distributed
from genesis_sql.errors import DistributedError, IntegrationError, InvalidArgumentError
from genesis_sql.streaming import StreamingConfig, StreamingGenerator
from genesis_sql.streaming.encoding import RowEncoder
from tests.scale.test_dask import cluster, con, start_scheduler, start_worker, stop  # noqa: F401 - fixtures
from tests.streaming.conftest import kafka_bootstrap  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

N = 200_000
RATE = 50_000


@dataclass(frozen=True)
class Record:
    """One message as read back."""

    key: bytes | None
    value: bytes
    row_id: str | None

    @property
    def part(self) -> int:
        return int(self.row_id.split("/")[1])


class TopicReader:
    """Reads every partition of a topic from its beginning in a background thread, while it is written."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer, Producer, TopicPartition

        metadata = Producer({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
        self.partitions = [TopicPartition(topic, p, 0) for p in sorted(metadata.topics[topic].partitions)]
        settings = {"bootstrap.servers": bootstrap, "group.id": f"reader-{topic}", "enable.auto.commit": False}
        self.consumer = Consumer({**settings, "fetch.wait.max.ms": 50})
        self.consumer.assign(self.partitions)
        # The reading thread holds its consumer while it waits for messages: offsets are asked of another.
        self._offsets = Consumer(settings)
        self.records: list[Record] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for message in self.consumer.consume(num_messages=10_000, timeout=0.1):
                if message.error() is not None:
                    self.errors.append(str(message.error()))
                    continue
                headers = dict(message.headers() or [])
                row_id = headers[ROW_HEADER].decode() if ROW_HEADER in headers else None
                self.records.append(Record(message.key(), message.value(), row_id))

    def appended(self) -> int:
        """Messages appended to the topic: the sum of its partitions' high watermarks."""
        return sum(self._offsets.get_watermark_offsets(p, timeout=10)[1] for p in self.partitions)

    def all(self, timeout: float = 60.0) -> list[Record]:
        """Every message appended so far, once read; then the reader stops."""
        expected = self.appended()
        deadline = time.monotonic() + timeout
        while len(self.records) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        self.close()
        assert not self.errors, self.errors
        assert len(self.records) == expected, (
            f"read {len(self.records)} of {expected} messages appended: the mock cluster dropped messages before "
            "they were read (is the machine overloaded?)")
        return self.records

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self.consumer.close()
            self._offsets.close()

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.fixture
def topics(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Topic names unique to the test: ``topics("cluster")``."""
    base = re.sub(r"[^A-Za-z0-9]", "_", request.node.name)
    return lambda suffix: f"{base}_{suffix}_{time.monotonic_ns()}"


def newest_block(con: duckdb.DuckDBPyConnection, block_type: str) -> dict:
    """The content of the newest lineage block of ``block_type``."""
    return json.loads(con.execute("SELECT content FROM genesis.lineage WHERE block_type = ? ORDER BY seq DESC "
                                  "LIMIT 1", [block_type]).fetchall()[0][0])


def expected_ids(job: str, n: int, partitions: int) -> set[str]:
    return {f"{job}/{part}/{offset}" for part, (_, count) in enumerate(part_ranges(n, partitions))
            for offset in range(count)}


def first_of_each_row(records: list[Record]) -> dict[str, Record]:
    """The documented consumer-side deduplication: keep the first message of each row id."""
    distinct: dict[str, Record] = {}
    for record in records:
        distinct.setdefault(record.row_id, record)
    return distinct


def single_process_stream(con: duckdb.DuckDBPyConnection, seed: int, condition: str | None,
                          key_column: str | None) -> Counter:
    """The (key, message) pairs that ``genesis stream --kafka`` sends for these rows: the single-process
    stream's batches, encoded by the Kafka sink's encoder (its lineage block is written too)."""
    stream = StreamingGenerator(con, "workers", StreamingConfig(batch_size=65_536, max_rows=N, seed=seed,
                                                                conditions=condition))
    encoder = RowEncoder(stream.schema, key_column=key_column)
    sent: Counter = Counter()
    for batch in stream.generate_stream():
        encoded = encoder.encode(pa.Table.from_batches([batch]))
        sent.update(zip(encoded.keys or [None] * encoded.num_rows, encoded.messages))
    encoder.close()
    return sent


@pytest.mark.parametrize(("condition", "key_column"), [(None, None), ("age > 50 AND sex = 'female'", "state")])
def test_exactly_the_single_process_stream(cluster, con, kafka_bootstrap, topics, condition, key_column) -> None:
    topic = topics("cluster")
    with TopicReader(kafka_bootstrap, topic) as reader:
        result = stream_distributed(con, "workers", N, scheduler=cluster[0], bootstrap_servers=kafka_bootstrap,
                                    topic=topic, partitions=3, seed=7, condition=condition, key_column=key_column,
                                    rate=RATE)
        records = reader.all()
    job, generation = newest_block(con, "transform"), newest_block(con, "generation")
    single = single_process_stream(con, 7, condition, key_column)

    assert len(records) == result.rows == N
    assert {r.row_id for r in records} == expected_ids(result.job, N, 3)
    assert Counter((r.key.decode() if key_column else None, r.value) for r in records) == single
    if key_column is None:
        assert all(r.key.decode() == r.row_id for r in records)
    if condition is not None:
        assert all(row["age"] > 50 and row["sex"] == "female" for row in (json.loads(r.value) for r in records))
    assert [p.rows for p in result.parts] == [65_536, 65_536, 68_928]
    assert (job["operation"], job["params"]["job"], job["params"]["row_header"]) == \
        ("distributed_stream", result.job, ROW_HEADER)
    assert [p["rows"] for p in job["params"]["parts"]] == [65_536, 65_536, 68_928]
    assert (generation["destination"], generation["n"]) == (f"kafka://{kafka_bootstrap}/{topic}", N)
    assert generation["rows_hash"] == newest_block(con, "generation")["rows_hash"]  # the single-process stream's
    assert con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]


def test_a_worker_killed_mid_part_still_gives_exactly_n_rows(con, kafka_bootstrap, topics, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import Client

    # Dask's memory manager drops the copies of data that idle workers hold, every 0.2 s here (not 2 s): the
    # job must not depend on data that only the killed worker holds.
    monkeypatch.setenv("DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__INTERVAL", "200ms")
    scheduler, address = start_scheduler(tmp_path)
    workers = [start_worker(address) for _ in range(2)]
    topic = topics("killed")
    finished: list = []
    try:
        with Client(address) as probe, TopicReader(kafka_bootstrap, topic) as reader:
            probe.wait_for_workers(2, timeout=60)
            pids = probe.run(os.getpid)
            job = threading.Thread(target=lambda: finished.append(stream_distributed(
                con, "workers", N, scheduler=address, bootstrap_servers=kafka_bootstrap, topic=topic, partitions=3,
                seed=3, rate=RATE)))
            job.start()
            kill_a_worker_mid_part(probe, pids, reader, part=2)
            job.join(timeout=300)
            assert finished, "the job did not finish after a worker was killed"
            records = reader.all()
    finally:
        stop(*workers, scheduler)
    result = finished[0]

    distinct = first_of_each_row(records)
    assert len(records) > N, "the killed part's first messages were produced again by its retry"
    assert len(distinct) == result.rows == N and set(distinct) == expected_ids(result.job, N, 3)
    assert all(r.value == distinct[r.row_id].value and r.key == distinct[r.row_id].key for r in records)
    assert {r.part for r in records if r is not distinct[r.row_id]} == {2}
    generation = newest_block(con, "generation")
    assert Counter((None, r.value) for r in distinct.values()) == single_process_stream(con, 3, None, None)
    assert generation["rows_hash"] == newest_block(con, "generation")["rows_hash"]


def kill_a_worker_mid_part(probe, pids: dict[str, int], reader: TopicReader, part: int) -> None:
    """SIGKILL the worker running ``part`` once the part's messages are arriving and the other worker is idle."""
    deadline = time.monotonic() + 120
    seen, arrived = 0, 0
    while time.monotonic() < deadline:
        records = reader.records[seen:]
        seen += len(records)
        arrived += sum(1 for record in records if record.part == part)
        processing = probe.processing()
        running = [address for address, keys in processing.items()
                   if any(str(key).endswith(f"-{part:05d}") for key in keys)]
        if arrived >= 1000 and running and sum(map(len, processing.values())) == 1:
            os.kill(pids[running[0]], signal.SIGKILL)
            return
        time.sleep(0.05)
    raise AssertionError(f"part {part} was not seen running alone")


def test_a_scheduler_without_workers_is_a_clear_error(con, kafka_bootstrap, topics, tmp_path: Path) -> None:
    scheduler, address = start_scheduler(tmp_path)
    topic = topics("idle")
    try:
        with TopicReader(kafka_bootstrap, topic) as reader:
            with pytest.raises(DistributedError, match="no workers after 2 s"):
                stream_distributed(con, "workers", 1000, scheduler=address, bootstrap_servers=kafka_bootstrap,
                                   topic=topic, partitions=2, seed=1, worker_wait=2)
            assert reader.appended() == 0
    finally:
        stop(scheduler)


def test_bad_requests_fail_before_anything_is_submitted(con, kafka_bootstrap) -> None:
    nowhere = "tcp://127.0.0.1:1"
    with pytest.raises(InvalidArgumentError, match="Key column 'colour' is not a column"):
        stream_distributed(con, "workers", 10, scheduler=nowhere, bootstrap_servers=kafka_bootstrap, topic="t",
                           partitions=2, key_column="colour")
    with pytest.raises(InvalidArgumentError, match="partitions must be a whole number"):
        stream_distributed(con, "workers", 10, scheduler=nowhere, bootstrap_servers=kafka_bootstrap, topic="t",
                           partitions=0)
    with pytest.raises(IntegrationError, match=r"Kafka at '127\.0\.0\.1:1' did not answer within 2 s"):
        stream_distributed(con, "workers", 10, scheduler=nowhere, bootstrap_servers="127.0.0.1:1", topic="t",
                           partitions=2, connect_timeout=2)


def test_cli_streams_on_the_cluster(cluster, con, kafka_bootstrap, topics, tmp_path: Path) -> None:
    database = tmp_path / "cli.duckdb"
    genesis_sql.export_model(con, "workers", tmp_path / "workers.genesis")
    with duckdb.connect(str(database)) as other:
        genesis_sql.install(other)
        genesis_sql.import_model(other, tmp_path / "workers.genesis")
    topic = topics("cli")
    with TopicReader(kafka_bootstrap, topic) as reader:
        result = CliRunner().invoke(cli, ["--db", str(database), "stream", "workers", "--cluster", cluster[0],
                                          "--partitions", "2", "--kafka", kafka_bootstrap, "--topic", topic,
                                          "--max-rows", "70000", "--seed", "4", "--where", "age > 40",
                                          "--rate", str(RATE)])
        assert result.exit_code == 0, result.output
        records = reader.all()
    assert re.search(rf"streamed 70,000 rows of workers@1 \(seed 4\) in 2 parts to kafka://{kafka_bootstrap}/{topic} "
                     r"\(job [0-9a-f]{12}; deduplicate on the genesis-row header\)", result.output), result.output
    assert len(records) == len(first_of_each_row(records)) == 70_000
    assert all(json.loads(r.value)["age"] > 40 for r in records)
