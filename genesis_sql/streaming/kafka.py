"""KafkaStreamingGenerator: a model's rows into a Kafka topic, one JSON message per row (confluent-kafka).

The producer is idempotent by default (``enable.idempotence=True``: no duplicates, per-partition order
kept across retries). Every setting in ``producer_config`` passes to librdkafka unchanged, so the same code
streams into a real cluster with its security settings::

    KafkaStreamingGenerator(con, "customers", StreamingConfig(rate=50_000), bootstrap_servers="broker:9093",
                            topic="customers", key_column="customer_id",
                            producer_config={"security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
                                             "sasl.username": "...", "sasl.password": "..."})

Delivery accounting. librdkafka reports failed deliveries to a callback (counted in ``stats.failed``);
success reports are left off (``delivery.report.only.error``), because a Python callback per message
halves throughput. A message leaves the producer's queue only when the broker acknowledged it or its
delivery failed, so ``stats.delivered`` = messages produced - still in the queue - failed, exactly.

Backpressure. When librdkafka's local queue is full (``queue.buffering.max.messages``), ``produce`` raises
BufferError; the stream then serves the producer (``poll``) and retries the same message: it waits, it
never drops. ``stop()`` flushes: every message produced is acknowledged before it returns (within
``flush_timeout``), so a clean stop after N rows leaves exactly N messages in the topic.

An unreachable broker fails ``start_streaming`` with :class:`IntegrationError` within ``connect_timeout``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from genesis_sql.errors import IntegrationError, InvalidArgumentError, MissingDependencyError
from genesis_sql.streaming.config import StreamingConfig
from genesis_sql.streaming.sink import SinkStreamingGenerator

if TYPE_CHECKING:
    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.streaming.encoding import EncodedBatch
    from genesis_sql.streaming.generator import Database

log = logging.getLogger(__name__)

# Settings genesis chooses unless producer_config says otherwise.
DEFAULT_PRODUCER_CONFIG: dict[str, Any] = {
    "enable.idempotence": True,
    "delivery.report.only.error": True,
    "linger.ms": 20,
}
# How long a full local queue is served before the same message is offered again.
BACKPRESSURE_POLL_SECONDS = 0.05


def _confluent_kafka():
    try:
        import confluent_kafka
    except ImportError as exc:
        raise MissingDependencyError(
            "Streaming to Kafka needs confluent-kafka: pip install 'genesis-sql[kafka]'.") from exc
    return confluent_kafka


class KafkaStreamingGenerator(SinkStreamingGenerator):
    """Streams a model's rows into a Kafka topic.

    Args:
        con: A DuckDB connection with genesis installed, or a database path.
        model: The model name.
        config: What to stream (rate, limits, seed, conditions).
        bootstrap_servers: ``host:port[,host:port...]`` of the cluster.
        topic: The topic to produce to.
        key_column: A column whose value keys each message (rows with one key share a partition).
        producer_config: librdkafka settings (``security.protocol``, ``sasl.*``, ``ssl.*``, ``acks``,
            ``compression.type`` ...), passed through unchanged over the defaults.
        connect_timeout: Seconds ``start_streaming`` waits for the cluster's metadata before failing.
        flush_timeout: Seconds ``stop`` (or a full queue after ``stop``) waits for acknowledgements.
    """

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None, *,
                 bootstrap_servers: str, topic: str, key_column: str | None = None,
                 producer_config: Mapping[str, Any] | None = None, connect_timeout: float = 10.0,
                 flush_timeout: float = 60.0) -> None:
        super().__init__(con, model, config)
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._key_column = key_column
        self.producer_config = dict(producer_config or {})
        self.connect_timeout = connect_timeout
        self.flush_timeout = flush_timeout
        self._producer = None
        self._produced = 0

    @property
    def destination(self) -> str:
        """``kafka://<bootstrap servers>/<topic>``."""
        return f"kafka://{self.bootstrap_servers}/{self.topic}"

    def key_column(self) -> str | None:
        """The column that keys each message."""
        return self._key_column

    def settings(self) -> dict[str, Any]:
        """The producer settings: defaults, then ``producer_config``, then the bootstrap servers."""
        given = self.producer_config.get("bootstrap.servers")
        if given is not None and given != self.bootstrap_servers:
            raise InvalidArgumentError(f"bootstrap servers given twice: {self.bootstrap_servers!r} and "
                                       f"producer_config['bootstrap.servers'] = {given!r}; pass one.")
        return {**DEFAULT_PRODUCER_CONFIG, **self.producer_config, "bootstrap.servers": self.bootstrap_servers}

    def _open(self, plan: GenerationPlan) -> None:
        kafka = _confluent_kafka()
        if not isinstance(self.topic, str) or not self.topic:
            raise InvalidArgumentError(f"topic must be a Kafka topic name such as 'customers'. Got {self.topic!r}.")
        settings = {**self.settings(), "error_cb": self._on_error, "on_delivery": self._on_delivery}
        try:
            producer = kafka.Producer(settings, logger=logging.getLogger("genesis_sql.streaming.librdkafka"))
        except kafka.KafkaException as exc:
            raise IntegrationError(f"Kafka rejected the producer settings: {exc.args[0]}") from exc
        try:
            producer.list_topics(self.topic, timeout=self.connect_timeout)
        except kafka.KafkaException as exc:
            raise IntegrationError(
                f"Kafka at {self.bootstrap_servers!r} did not answer within {self.connect_timeout:g} s "
                f"({exc.args[0]}). Check the bootstrap servers, that the broker is up, and the security "
                "settings (security.protocol, sasl.*, ssl.*) in producer_config.") from exc
        self._producer = producer
        self._produced = 0

    def _on_error(self, error: Any) -> None:
        self.stats.errors += 1
        log.warning("Kafka error (%s): %s", "fatal" if error.fatal() else "retrying", error.str())
        if error.fatal():
            self._error = self._error or IntegrationError(f"The Kafka producer failed: {error.str()}")
            self._stop.set()

    def _on_delivery(self, error: Any, message: Any) -> None:
        if error is not None:
            self.stats.failed += 1
            self._error = self._error or IntegrationError(
                f"Kafka could not deliver a message to {self.topic!r}: {error.str()}. The stream stopped; "
                f"{self.stats.failed} message(s) failed so far.")
            self._stop.set()

    def _update(self) -> None:
        in_flight = len(self._producer)
        self.stats.in_flight = in_flight
        self.stats.delivered = self._produced - in_flight - self.stats.failed

    def _send(self, batch: EncodedBatch) -> bool:
        produce, topic, messages, keys = self._producer.produce, self.topic, batch.messages, batch.keys
        sent, total = 0, len(messages)
        deadline = None
        while sent < total:
            try:
                if keys is None:
                    for value in messages[sent:] if sent else messages:
                        produce(topic, value)
                        sent += 1
                else:
                    for value, key in zip(messages[sent:], keys[sent:]):
                        produce(topic, value, key)
                        sent += 1
            except BufferError:
                self.stats.backpressure_waits += 1
                if self._stop.is_set():
                    deadline = deadline or time.monotonic() + self.flush_timeout
                    if time.monotonic() > deadline:
                        self._produced += sent
                        raise IntegrationError(
                            f"Kafka at {self.bootstrap_servers!r} took no messages for {self.flush_timeout:g} s "
                            "while stopping; the unsent rows were not streamed.") from None
                self._producer.poll(BACKPRESSURE_POLL_SECONDS)
        self._produced += total
        self._producer.poll(0)
        self._update()
        return True

    def _close(self) -> None:
        if self._producer is None:
            return
        left = self._producer.flush(self.flush_timeout)
        self._update()
        if left:
            raise IntegrationError(f"{left} message(s) to {self.topic!r} were not acknowledged within "
                                   f"{self.flush_timeout:g} s of stopping; Kafka at {self.bootstrap_servers!r} "
                                   "may be down. Raise flush_timeout or check the cluster.")

    def _delivered_ok(self) -> bool:
        return self.stats.failed == 0 and self.stats.in_flight == 0

    def _shutdown(self) -> None:
        self._producer = None
