"""Stream synthetic rows into Kafka and read them back with an independent consumer.

    python examples/streaming_kafka.py [BOOTSTRAP]

Without a bootstrap address it starts a local Kafka-protocol broker first (librdkafka's mock cluster in
its own process, the same one `genesis kafka-dev` runs), so it works on a machine with no Kafka. With
one (`genesis kafka-dev` in another terminal, or a real cluster) it uses that broker.
"""
from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path

import duckdb
from confluent_kafka import Consumer

import genesis_sql
from genesis_sql.streaming import KafkaStreamingGenerator, StreamingConfig
from genesis_sql.streaming.mock_broker import MockKafkaBroker

ROWS = 5_000
TOPIC = "older_workers"


def stream(con: duckdb.DuckDBPyConnection, bootstrap: str) -> None:
    config = StreamingConfig(batch_size=1_000, max_rows=ROWS, seed=3, conditions="age > 50")
    with KafkaStreamingGenerator(con, "workers", config, bootstrap_servers=bootstrap, topic=TOPIC) as producer:
        producer.start_streaming()
        producer.wait()


def read_back(bootstrap: str) -> list[dict]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "example", "auto.offset.reset": "earliest"})
    consumer.subscribe([TOPIC])
    rows: list[dict] = []
    empty_polls = 0
    while len(rows) < ROWS and empty_polls < 30:
        message = consumer.poll(1.0)
        if message is None or message.error():
            empty_polls += 1
            continue
        rows.append(json.loads(message.value()))
    consumer.close()
    return rows


def main(bootstrap: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        if bootstrap is None:
            bootstrap = stack.enter_context(MockKafkaBroker())
            print(f"started a local broker at {bootstrap}")
        con = duckdb.connect(str(Path(folder) / "example.duckdb"))
        genesis_sql.install(con)
        csv = str(resources.files("genesis_sql") / "_data" / "benefits.csv").replace("'", "''")
        con.execute(f"CREATE TABLE benefits AS SELECT * FROM read_csv('{csv}')")
        genesis_sql.fit(con, "workers", "SELECT * FROM benefits", method="copula")
        stream(con, bootstrap)
        rows = read_back(bootstrap)
        print(f"read {len(rows)} messages from {TOPIC!r}; ages {min(r['age'] for r in rows)}-{max(r['age'] for r in rows)}")
        assert len(rows) == ROWS and all(r["age"] > 50 for r in rows)
        con.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
