"""Kafka sinks: one JSON message per row into a topic with confluent-kafka.

:class:`KafkaWriter` is one producer writing messages to one topic, shared by every Kafka sink (the
background :class:`KafkaStreamingGenerator` here, and each task of a Dask job in
:mod:`genesis_sql.distributed.stream`).

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
BufferError; the writer then serves the producer (``poll``) and retries the same message: it waits, it
never drops. ``stop()`` flushes: every message produced is acknowledged before it returns (within
``flush_timeout``), so a clean stop after N rows leaves exactly N messages in the topic.

An unreachable broker fails ``start_streaming`` with :class:`IntegrationError` within ``connect_timeout``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from genesis_sql.errors import IntegrationError, InvalidArgumentError, MissingDependencyError
from genesis_sql.streaming.config import StreamingConfig, StreamingStats
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


def producer_settings(bootstrap_servers: str, producer_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The producer settings: the defaults, then ``producer_config``, then the bootstrap servers."""
    config = dict(producer_config or {})
    given = config.get("bootstrap.servers")
    if given is not None and given != bootstrap_servers:
        raise InvalidArgumentError(f"bootstrap servers given twice: {bootstrap_servers!r} and "
                                   f"producer_config['bootstrap.servers'] = {given!r}; pass one.")
    return {**DEFAULT_PRODUCER_CONFIG, **config, "bootstrap.servers": bootstrap_servers}


class KafkaWriter:
    """One producer writing messages to one topic, waiting (never dropping) when its queue is full.

    Args:
        bootstrap_servers: ``host:port[,host:port...]`` of the cluster.
        topic: The topic to produce to.
        producer_config: librdkafka settings passed through over the defaults.
        connect_timeout: Seconds :meth:`open` waits for the cluster's metadata before failing.
        flush_timeout: Seconds :meth:`close` (or a full queue once ``stop`` is set) waits for acknowledgements.
        stats: Counters to keep up to date (``delivered``, ``failed``, ``errors``, ``in_flight``,
            ``backpressure_waits``); a fresh :class:`StreamingStats` when omitted.
        stop: Set by the writer when delivery fails; once set by anyone, a full queue waits at most
            ``flush_timeout`` more.

    Attributes:
        error: The first failure (a fatal producer error or an undelivered message), or None.
    """

    def __init__(self, bootstrap_servers: str, topic: str, *, producer_config: Mapping[str, Any] | None = None,
                 connect_timeout: float = 10.0, flush_timeout: float = 60.0, stats: StreamingStats | None = None,
                 stop: threading.Event | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.producer_config = dict(producer_config or {})
        self.connect_timeout = connect_timeout
        self.flush_timeout = flush_timeout
        self.stats = stats if stats is not None else StreamingStats()
        self.stop = stop if stop is not None else threading.Event()
        self.error: IntegrationError | None = None
        self._producer = None
        self._produced = 0

    def open(self) -> KafkaWriter:
        """Create the producer and wait for the topic's metadata; returns ``self``.

        Raises:
            IntegrationError: Kafka rejected the settings or did not answer within ``connect_timeout``.
        """
        kafka = _confluent_kafka()
        if not isinstance(self.topic, str) or not self.topic:
            raise InvalidArgumentError(f"topic must be a Kafka topic name such as 'customers'. Got {self.topic!r}.")
        settings = {**producer_settings(self.bootstrap_servers, self.producer_config), "error_cb": self._on_error,
                    "on_delivery": self._on_delivery}
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
        return self

    def _on_error(self, error: Any) -> None:
        self.stats.errors += 1
        log.warning("Kafka error (%s): %s", "fatal" if error.fatal() else "retrying", error.str())
        if error.fatal():
            self.error = self.error or IntegrationError(f"The Kafka producer failed: {error.str()}")
            self.stop.set()

    def _on_delivery(self, error: Any, message: Any) -> None:
        if error is not None:
            self.stats.failed += 1
            self.error = self.error or IntegrationError(
                f"Kafka could not deliver a message to {self.topic!r}: {error.str()}. The stream stopped; "
                f"{self.stats.failed} message(s) failed so far.")
            self.stop.set()

    def _update(self) -> None:
        in_flight = len(self._producer)
        self.stats.in_flight = in_flight
        self.stats.delivered = self._produced - in_flight - self.stats.failed

    def send(self, messages: Sequence[bytes], keys: Sequence[str | bytes | None] | None = None,
             headers: Sequence[list[tuple[str, bytes]]] | None = None) -> None:
        """Produce ``messages`` (with their ``keys`` and ``headers``, when given), in order.

        Raises:
            IntegrationError: ``stop`` was set and the queue took nothing for ``flush_timeout`` seconds.
        """
        produce, topic = self._producer.produce, self.topic
        sent, total = 0, len(messages)
        deadline = None
        while sent < total:
            try:
                if headers is not None:
                    for value, key, header in zip(messages[sent:], keys[sent:], headers[sent:]):
                        produce(topic, value, key, headers=header)
                        sent += 1
                elif keys is None:
                    for value in messages[sent:] if sent else messages:
                        produce(topic, value)
                        sent += 1
                else:
                    for value, key in zip(messages[sent:], keys[sent:]):
                        produce(topic, value, key)
                        sent += 1
            except BufferError:
                self.stats.backpressure_waits += 1
                if self.stop.is_set():
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

    def close(self) -> None:
        """Wait for every message produced to be acknowledged, then release the producer.

        Raises:
            IntegrationError: Messages were still unacknowledged after ``flush_timeout`` seconds.
        """
        if self._producer is None:
            return
        left = self._producer.flush(self.flush_timeout)
        self._update()
        self._producer = None
        if left:
            raise IntegrationError(f"{left} message(s) to {self.topic!r} were not acknowledged within "
                                   f"{self.flush_timeout:g} s of stopping; Kafka at {self.bootstrap_servers!r} "
                                   "may be down. Raise flush_timeout or check the cluster.")

    @property
    def delivered_ok(self) -> bool:
        """Whether every message produced was acknowledged."""
        return self.stats.failed == 0 and self.stats.in_flight == 0


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
        self._writer: KafkaWriter | None = None

    @property
    def destination(self) -> str:
        """``kafka://<bootstrap servers>/<topic>``."""
        return f"kafka://{self.bootstrap_servers}/{self.topic}"

    def key_column(self) -> str | None:
        """The column that keys each message."""
        return self._key_column

    def settings(self) -> dict[str, Any]:
        """The producer settings: defaults, then ``producer_config``, then the bootstrap servers."""
        return producer_settings(self.bootstrap_servers, self.producer_config)

    def _open(self, plan: GenerationPlan) -> None:
        self._writer = KafkaWriter(self.bootstrap_servers, self.topic, producer_config=self.producer_config,
                                   connect_timeout=self.connect_timeout, flush_timeout=self.flush_timeout,
                                   stats=self.stats, stop=self._stop).open()

    def _send(self, batch: EncodedBatch) -> bool:
        self._writer.send(batch.messages, batch.keys)
        if self._writer.error is not None:
            raise self._writer.error
        return True

    def _close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        if self._writer.error is not None:
            raise self._writer.error

    def _delivered_ok(self) -> bool:
        return self._writer is not None and self._writer.delivered_ok
