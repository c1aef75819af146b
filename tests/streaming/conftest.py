"""Fixtures for the streaming tests: a DuckDB file with fitted models, a Kafka broker, a Kafka consumer."""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.streaming.mock_broker import MockKafkaBroker

# The shared real data sets sit next to the project: ../shared/data.
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DIAMONDS_ROWS = 5000


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with models 'diamonds' (5,000 diamonds) and 'economics' (with a DATE column)."""
    path = tmp_path_factory.mktemp("streaming") / "template.duckdb"
    with duckdb.connect(str(path)) as con:
        genesis_sql.install(con)
        con.execute(f"CREATE TABLE diamonds AS SELECT * FROM read_csv('{DATA / 'diamonds.csv'}') LIMIT {DIAMONDS_ROWS}")
        genesis_sql.fit(con, "diamonds", "SELECT * FROM diamonds")
        genesis_sql.fit(con, "economics", f"SELECT * FROM read_csv('{DATA / 'economics.csv'}')")
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template database."""
    path = tmp_path / "stream.duckdb"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture(scope="session")
def con(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One genesis connection shared by the tests, to a copy of the template (installing is the slow part).

    Tests append lineage blocks and fit models under names of their own; they never refit the
    template's models, so every test sees 'diamonds@1' and 'economics@1'.
    """
    path = tmp_path_factory.mktemp("shared") / "shared.duckdb"
    shutil.copyfile(template_db, path)
    connection = duckdb.connect(str(path))
    genesis_sql.install(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """librdkafka's mock cluster running as a process of its own; yields its bootstrap address."""
    with MockKafkaBroker() as bootstrap:
        yield bootstrap


@pytest.fixture
def topic(request: pytest.FixtureRequest) -> str:
    """A topic name unique to the test."""
    return f"t_{request.node.name}_{time.monotonic_ns()}".replace("[", "_").replace("]", "_")


@pytest.fixture
def consume(kafka_bootstrap: str) -> Callable[..., list]:
    """Read a topic with kafka-python (an independent client): ``consume(topic, expected, timeout=...)``.

    Returns the records of every partition, read until ``expected`` arrived and then for a short grace
    period (to catch duplicates), or until the timeout.
    """
    from kafka import KafkaConsumer, TopicPartition

    consumers = []

    def read(topic: str, expected: int, *, timeout: float = 30.0, grace: float = 1.0) -> list:
        consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, api_version=(2, 1), enable_auto_commit=False,
                                 consumer_timeout_ms=1000)
        consumers.append(consumer)
        deadline = time.monotonic() + timeout
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.1)
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        records: list = []
        done_at = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200, max_records=50_000).values():
                records.extend(batch)
            if len(records) >= expected:
                done_at = done_at or time.monotonic()
                if time.monotonic() - done_at >= grace:
                    break
        return records

    yield read
    for consumer in consumers:
        consumer.close()


def rows_of(records: list) -> list[dict]:
    """The JSON rows of Kafka records."""
    return [json.loads(record.value) for record in records]
