"""Streaming: a stored model as an endless, rate-controlled stream into Python, Kafka, WebSocket clients or files.

    from genesis_sql.streaming import StreamingConfig, StreamingGenerator
    config = StreamingConfig(batch_size=10_000, max_batches=5)
    for batch in StreamingGenerator(con, "customers", config).generate_stream():
        ...   # pyarrow.RecordBatch

The sinks (:class:`KafkaStreamingGenerator`, :class:`WebSocketStreamingGenerator`,
:class:`FileStreamingGenerator`, :class:`QueueStreamingGenerator`) stream in the background:
``start_streaming()``, then ``wait()`` or ``stop()``. Kafka needs ``confluent-kafka`` and WebSocket needs
``websockets`` (the ``kafka`` and ``websocket`` extras); they are imported when first used.
"""
from __future__ import annotations

from genesis_sql.streaming.config import StreamingConfig, StreamingStats
from genesis_sql.streaming.files import FileStreamingGenerator, QueueStreamingGenerator
from genesis_sql.streaming.generator import StreamingGenerator
from genesis_sql.streaming.kafka import KafkaStreamingGenerator
from genesis_sql.streaming.rate import TokenBucket
from genesis_sql.streaming.websocket import WebSocketStreamingGenerator

__all__ = [
    "FileStreamingGenerator",
    "KafkaStreamingGenerator",
    "QueueStreamingGenerator",
    "StreamingConfig",
    "StreamingGenerator",
    "StreamingStats",
    "TokenBucket",
    "WebSocketStreamingGenerator",
]
