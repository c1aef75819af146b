"""The background machinery every sink shares: start, pace, deliver, stop cleanly, record lineage.

A running stream has two threads. The *generation* thread makes batches and encodes them (JSON, row
hashes) a little ahead, into a bounded queue; most of that work runs in numpy and DuckDB without the
GIL, and it honours ``delay_between_batches``. The *delivery* thread takes them in slices (at most a
tenth of a second's worth at the target rate), waits on the token bucket, and hands each slice to the
sink. Memory stays bounded by the queue and the sink's own buffer whatever the stream's length.

``stop()`` ends the stream after the slice being delivered, lets the sink finish (flush Kafka, close
files, drain WebSocket queues), records one lineage block for the rows delivered, and raises the error
that ended the stream, if one did (a failed stream records no lineage block: the error says what was
delivered). Subclasses implement the ``_open`` / ``_send`` / ``_close`` hooks.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING

import pyarrow as pa

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.streaming.config import StreamingStats
from genesis_sql.streaming.encoding import EncodedBatch, RowEncoder
from genesis_sql.streaming.generator import Database, StreamingGenerator
from genesis_sql.streaming.lineage import StreamFingerprint, record_stream
from genesis_sql.streaming.rate import SLICE_SECONDS, TokenBucket, slice_rows

if TYPE_CHECKING:
    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.streaming.config import StreamingConfig

log = logging.getLogger(__name__)

# Encoded units the generation thread may hold ready ahead of delivery.
PREFETCH_BATCHES = 2
# Rows encoded per DuckDB query when batches are smaller (and no pause between batches is asked for).
ENCODE_ROWS = 50_000
_END = object()


class SinkStreamingGenerator(StreamingGenerator):
    """A StreamingGenerator that pushes its rows into a sink from background threads.

    Use ``start_streaming()``, then ``wait()`` for a bounded stream to finish or ``stop()`` at any time;
    as a context manager it stops on exit.
    """

    # Whether the sink sends JSON messages (else it takes Arrow batches).
    json_messages = True
    # The most rows handed to ``_send`` at once when no rate is set.
    slice_limit = 1 << 30

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None) -> None:
        super().__init__(con, model, config)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._error: BaseException | None = None
        self._delivered: StreamFingerprint | None = None
        self._running_plan: GenerationPlan | None = None

    # -- hooks ---------------------------------------------------------------------------------------
    @property
    def destination(self) -> str:
        """Where the rows go, as lineage records it (``kafka://host:port/topic`` ...)."""
        raise NotImplementedError

    def key_column(self) -> str | None:
        """The column whose values become message keys, if any."""
        return None

    def _open(self, plan: GenerationPlan) -> None:
        """Make the sink ready (connect, check reachability); runs in the caller of ``start_streaming``."""

    def _send(self, batch: EncodedBatch) -> bool:
        """Deliver one slice (delivery thread), blocking rather than dropping when the sink is full.

        Returns whether the slice was delivered: False only when the stream was stopped while waiting.
        """
        raise NotImplementedError

    def _close(self) -> None:
        """Finish delivering what was sent (delivery thread, always, after the last ``_send``)."""

    def _delivered_ok(self) -> bool:
        """Whether every row handed to ``_send`` is known delivered (else no lineage block is written)."""
        return True

    def _shutdown(self) -> None:
        """Release what outlives a stream (a server); called by ``stop()`` after the threads end."""

    # -- lifecycle -----------------------------------------------------------------------------------
    @property
    def streaming(self) -> bool:
        """Whether a stream is running."""
        return any(thread.is_alive() for thread in self._threads)

    def start_streaming(self, samples_per_second: float | None = None) -> SinkStreamingGenerator:
        """Start streaming in the background; returns ``self``.

        Args:
            samples_per_second: Target rows per second for this stream (overrides ``config.rate``).

        Raises:
            IntegrationError: The sink cannot be reached (raised here, within the sink's timeout).
        """
        if self._threads:
            raise InvalidArgumentError("This generator is already streaming (or was not stopped); call stop() "
                                       "before starting again.")
        config = self.config.with_rate(samples_per_second)
        plan = self.prepare()
        encoder = RowEncoder(self.schema, json=self.json_messages, key_column=self.key_column())
        try:
            self._open(plan)
        except BaseException:
            encoder.close()
            raise
        self._stop.clear()
        self._error = None
        self._delivered = StreamFingerprint(self.schema.names)
        self._running_plan = plan
        self.stats.start(target_rate=config.rate, seed=plan.seed)
        ready: queue.Queue = queue.Queue(maxsize=PREFETCH_BATCHES)
        self._threads = [
            threading.Thread(target=self._generate, args=(encoder, ready, config.delay_between_batches),
                             name="genesis-stream-generate", daemon=True),
            threading.Thread(target=self._deliver, args=(config, ready), name="genesis-stream-deliver",
                             daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a bounded stream has delivered everything (or failed), for at most ``timeout`` seconds.

        Returns whether the stream has ended; call ``stop()`` then, to record lineage and see any error.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.streaming

    def stop(self) -> StreamingStats:
        """Stop after the slice in progress, finish the sink, record lineage; returns the final stats.

        Raises:
            GenesisError: What ended the stream early (a broker failure ...), after cleaning up.
        """
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads = []
        try:
            self._shutdown()
        finally:
            self.stats.finish()
        error, self._error = self._error, None
        plan, self._running_plan = self._running_plan, None
        if plan is not None and error is None and self._delivered_ok():
            with self.session() as con:
                record_stream(con, plan, self._delivered, destination=self.destination)
        elif plan is not None:
            log.warning("stream of %s to %s did not complete; no lineage block written", plan.ref, self.destination)
        if error is not None:
            raise error
        return self.stats.snapshot()

    def __enter__(self) -> SinkStreamingGenerator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- threads -------------------------------------------------------------------------------------
    def _put(self, ready: queue.Queue, item: object) -> bool:
        """Put ``item`` on the queue unless the stream stops first; whether it was put."""
        while not self._stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _take(self, ready: queue.Queue) -> object:
        """The next item from the queue, or the end marker once the stream stops."""
        while not self._stop.is_set():
            try:
                return ready.get(timeout=0.1)
            except queue.Empty:
                continue
        return _END

    def _generate(self, encoder: RowEncoder, ready: queue.Queue, delay: float) -> None:
        pending: list[pa.Table] = []
        try:
            for table in self.tables():
                self.stats.total_batches += 1
                pending.append(table)
                # Batches are encoded together up to ENCODE_ROWS (one DuckDB query has a fixed cost),
                # unless a pause between batches asks for them one at a time.
                if delay or sum(t.num_rows for t in pending) >= ENCODE_ROWS:
                    if not self._put(ready, encoder.encode(pa.concat_tables(pending))):
                        return
                    pending = []
                if delay and self._stop.wait(delay):
                    return
            if pending and not self._put(ready, encoder.encode(pa.concat_tables(pending))):
                return
            self._put(ready, _END)
        except BaseException as exc:  # handed to the delivery thread, which ends the stream with it
            self._put(ready, exc)
        finally:
            encoder.close()

    def _deliver(self, config: StreamingConfig, ready: queue.Queue) -> None:
        try:
            self._deliver_batches(config, ready)
        except BaseException as exc:  # re-raised by stop() in the caller's thread
            log.error("stream to %s failed: %s", self.destination, exc)
            self._error = exc
            self._stop.set()
        finally:
            try:
                self._close()
            except BaseException as exc:  # the first error wins; this one is logged
                log.error("closing the stream to %s failed: %s", self.destination, exc)
                self._error = self._error or exc
            self.stats.finish()

    def _deliver_batches(self, config: StreamingConfig, ready: queue.Queue) -> None:
        size = slice_rows(config.rate, self.slice_limit)
        bucket = None if config.rate is None else TokenBucket(config.rate,
                                                             burst=max(size, config.rate * SLICE_SECONDS))
        while True:
            item = self._take(ready)
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            for start in range(0, item.num_rows, size):
                part = item.slice(start, min(start + size, item.num_rows))
                delay = 0.0 if bucket is None else bucket.reserve(part.num_rows)
                if self._stop.is_set() or (delay and self._stop.wait(delay)):
                    return
                if not self._send(part):
                    return
                self._delivered.add(part)
                self.stats.total_samples += part.num_rows
