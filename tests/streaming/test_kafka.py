"""KafkaStreamingGenerator against librdkafka's mock cluster (its own process), read back with kafka-python."""
from __future__ import annotations

import time

import pytest

import genesis_sql
from genesis_sql.errors import IntegrationError, InvalidArgumentError
from genesis_sql.lineage import LineageChain
from genesis_sql.streaming import KafkaStreamingGenerator, StreamingConfig
from tests.streaming.conftest import rows_of

DIAMOND_COLUMNS = ["carat", "cut", "color", "clarity", "depth", "table", "price", "x", "y", "z"]


def _kafka(con, bootstrap, topic, config, **options) -> KafkaStreamingGenerator:
    return KafkaStreamingGenerator(con, "diamonds", config, bootstrap_servers=bootstrap, topic=topic, **options)


def test_every_row_arrives_once_with_schema_key_and_condition(con, kafka_bootstrap, topic, consume):
    config = StreamingConfig(batch_size=4000, max_rows=12_000, seed=11, conditions="price > 3000 AND cut = 'Ideal'")
    stream = _kafka(con, kafka_bootstrap, topic, config, key_column="color").start_streaming()
    assert stream.wait(60)
    stats = stream.stop()

    records = consume(topic, 12_000)
    rows = rows_of(records)
    assert len(records) == stats.delivered == stats.total_samples == 12_000
    assert stats.failed == 0 and stats.in_flight == 0
    assert len({(r.partition, r.offset) for r in records}) == len(records)
    assert all(list(row) == DIAMOND_COLUMNS for row in rows)
    assert all(row["price"] > 3000 and row["cut"] == "Ideal" for row in rows)
    assert all(record.key.decode() == row["color"] for record, row in zip(records, rows))
    expected = genesis_sql.generate(con, "diamonds", 12_000, seed=11, condition="price > 3000 AND cut = 'Ideal'")
    assert sorted(map(str, rows)) == sorted(map(str, expected.to_pylist()))


def test_clean_stop_delivers_exactly_what_was_produced(con, kafka_bootstrap, topic, consume):
    stream = _kafka(con, kafka_bootstrap, topic, StreamingConfig(batch_size=2000, seed=5, rate=20_000))
    stream.start_streaming()
    while stream.stats.total_samples < 6000:
        time.sleep(0.05)
    stats = stream.stop()

    assert stats.total_samples >= 6000
    records = consume(topic, stats.total_samples)
    assert len(records) == stats.delivered == stats.total_samples
    values = [record.value for record in records]
    expected = genesis_sql.generate(con, "diamonds", stats.total_samples, seed=5)
    assert len(set(map(bytes, values))) == len({str(r) for r in expected.to_pylist()})
    assert sorted(map(str, rows_of(records))) == sorted(map(str, expected.to_pylist()))


def test_stop_records_one_lineage_block_with_rows_delivered(con, kafka_bootstrap, topic):
    before = len(LineageChain(con))
    stream = _kafka(con, kafka_bootstrap, topic, StreamingConfig(max_rows=3000, seed=2)).start_streaming()
    stream.wait(60)
    stream.stop()

    blocks = list(LineageChain(con).blocks())
    assert len(blocks) == before + 1
    content = blocks[-1].payload
    assert (blocks[-1].block_type, content["n"], content["seed"]) == ("generation", 3000, 2)
    assert content["destination"] == f"kafka://{kafka_bootstrap}/{topic}"


def test_full_local_queue_waits_and_loses_nothing(con, kafka_bootstrap, topic, consume):
    config = StreamingConfig(batch_size=5000, max_rows=10_000, seed=3)
    stream = _kafka(con, kafka_bootstrap, topic, config,
                    producer_config={"queue.buffering.max.messages": 500, "linger.ms": 5}).start_streaming()
    assert stream.wait(60)
    stats = stream.stop()

    assert stats.backpressure_waits > 0
    assert len(consume(topic, 10_000)) == stats.delivered == 10_000


def test_unreachable_broker_fails_fast_with_integration_error(con):
    stream = KafkaStreamingGenerator(con, "diamonds", StreamingConfig(max_rows=10), bootstrap_servers="127.0.0.1:1",
                                     topic="nowhere", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(IntegrationError, match=r"Kafka at '127\.0\.0\.1:1' did not answer within 2 s"):
        stream.start_streaming()
    assert time.monotonic() - started < 8
    assert not stream.streaming


def test_producer_settings_pass_through_unchanged(con):
    stream = _kafka(con, "broker-1:9093", "t", None, producer_config={
        "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN", "sasl.username": "u", "sasl.password": "p",
        "enable.idempotence": False})
    settings = stream.settings()
    assert settings["bootstrap.servers"] == "broker-1:9093"
    assert settings["security.protocol"] == "SASL_SSL" and settings["sasl.username"] == "u"
    assert settings["enable.idempotence"] is False
    assert _kafka(con, "b:9092", "t", None).settings()["enable.idempotence"] is True


def test_bootstrap_servers_given_twice_must_agree(con):
    stream = _kafka(con, "a:9092", "t", None, producer_config={"bootstrap.servers": "b:9092"})
    with pytest.raises(InvalidArgumentError, match="bootstrap servers given twice"):
        stream.settings()


def test_unknown_key_column_is_named_before_connecting(con):
    stream = _kafka(con, "127.0.0.1:1", "t", StreamingConfig(max_rows=10), key_column="colour")
    with pytest.raises(InvalidArgumentError, match="Key column 'colour' is not a column"):
        stream.start_streaming()
