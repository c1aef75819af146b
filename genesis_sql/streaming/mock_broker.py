"""librdkafka's mock cluster in a process of its own: a Kafka-protocol broker on loopback.

The mock cluster ships inside confluent-kafka; any Kafka client (kafka-python, Java, kcat) can talk to
it over TCP, which makes it a real broker for tests, benchmarks and demos with no Kafka installed. It
keeps every message in memory, so it is not for long-lived use. The child process runs :data:`SCRIPT`
with ``python -c`` (it imports only confluent-kafka, so it starts in a fraction of a second)::

    with MockKafkaBroker() as bootstrap:
        KafkaStreamingGenerator(con, "customers", bootstrap_servers=bootstrap, topic="customers")...

The broker process exits when its standard input closes, so it never outlives the process that started it.
"""
from __future__ import annotations

import logging
import os
import select
import subprocess
import sys

from genesis_sql.errors import IntegrationError

log = logging.getLogger(__name__)

STARTUP_SECONDS = 30.0
# The broker process: the mock cluster lives inside this client handle, and the bootstrap address comes
# from the cluster's own metadata. It serves until its standard input closes.
SCRIPT = f"""
import sys
from confluent_kafka import Producer
handle = Producer({{"test.mock.num.brokers": 1, "log_level": 3}})
broker = next(iter(handle.list_topics(timeout={STARTUP_SECONDS}).brokers.values()))
print(f"{{broker.host}}:{{broker.port}}", flush=True)
sys.stdin.read()
"""


class MockKafkaBroker:
    """Runs :data:`SCRIPT` as a child process; as a context manager, yields the bootstrap address."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.bootstrap_servers: str | None = None

    def start(self) -> str:
        """Start the broker process and return its bootstrap address (``127.0.0.1:PORT``)."""
        self.process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        readable, _, _ = select.select([self.process.stdout], [], [], STARTUP_SECONDS)
        line = self.process.stdout.readline().strip() if readable else ""
        if not line:
            self.stop()
            raise IntegrationError(f"The mock Kafka broker did not start within {STARTUP_SECONDS:g} s.")
        self.bootstrap_servers = line
        log.info("mock Kafka broker (pid %d) at %s", self.process.pid, line)
        return line

    def stop(self) -> None:
        """End the broker process."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

