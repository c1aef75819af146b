"""What a stream is asked to do (:class:`StreamingConfig`) and what it has done so far (:class:`StreamingStats`).

Example:
    >>> config = StreamingConfig(batch_size=1_000, max_batches=3, seed=7)
    >>> config.row_limit
    3000
    >>> StreamingConfig(rate=-1)
    Traceback (most recent call last):
    ...
    genesis_sql.errors.InvalidArgumentError: rate must be a positive number of rows per second, such as 50000. Got -1.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

from genesis_sql.conditions import ConditionSet
from genesis_sql.errors import InvalidArgumentError


def _whole(name: str, value: object, *, minimum: int, example: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be a whole number of at least {minimum}, such as {example}. "
                                   f"Got {value!r}.")


@dataclass(frozen=True)
class StreamingConfig:
    """How to stream a model's rows.

    The stream is rows 0, 1, 2, ... of the model's generation stream for ``seed`` and ``conditions`` (the
    same rows ``genesis_generate`` returns for that seed and condition), cut into batches.

    Args:
        batch_size: Rows generated per batch (the unit ``generate_stream`` yields).
        max_batches: Stop after this many batches; None for no batch limit.
        max_rows: Stop after this many rows (the last batch is cut short); None for no row limit. With
            neither limit the stream is endless until stopped.
        delay_between_batches: Seconds to pause after each batch (on top of any rate control).
        rate: Target rows per second; None streams as fast as the sink takes rows. Sinks deliver in
            slices of at most a tenth of a second's worth of rows, so the stream is smooth at that scale.
        seed: Seed of the generation stream; None draws one (recorded in lineage and in ``stats``).
        conditions: A SQL condition (``"age > 50"``) or ConditionSet that every row satisfies.
    """

    batch_size: int = 10_000
    max_batches: int | None = None
    max_rows: int | None = None
    delay_between_batches: float = 0.0
    rate: float | None = None
    seed: int | None = None
    conditions: str | ConditionSet | None = None

    def __post_init__(self) -> None:
        _whole("batch_size", self.batch_size, minimum=1, example="10000")
        _whole("max_batches", self.max_batches, minimum=0, example="100")
        _whole("max_rows", self.max_rows, minimum=0, example="1000000")
        if (isinstance(self.delay_between_batches, bool) or not isinstance(self.delay_between_batches, (int, float))
                or not 0 <= self.delay_between_batches < math.inf):
            raise InvalidArgumentError("delay_between_batches must be zero or a positive number of seconds. "
                                       f"Got {self.delay_between_batches!r}.")
        self._check_rate(self.rate)

    @staticmethod
    def _check_rate(rate: object) -> None:
        if rate is None:
            return
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
            raise InvalidArgumentError(
                f"rate must be a positive number of rows per second, such as 50000. Got {rate!r}.")

    def with_rate(self, rate: float | None) -> StreamingConfig:
        """A copy with another target rate (``start_streaming(samples_per_second)`` uses it)."""
        return self if rate is None else dataclasses.replace(self, rate=rate)

    @property
    def row_limit(self) -> int | None:
        """The most rows the stream produces: the smaller of ``max_rows`` and ``max_batches * batch_size``."""
        limits = [limit for limit in (self.max_rows,
                                      None if self.max_batches is None else self.max_batches * self.batch_size)
                  if limit is not None]
        return min(limits) if limits else None


@dataclass
class StreamingStats:
    """Counters of one stream, updated by the thread that runs it; read them at any time.

    Attributes:
        total_samples: Rows generated and handed to the sink (or yielded by ``generate_stream``).
        total_batches: Batches generated (sinks generate a little ahead of delivery).
        start_time: ``time.time()`` when the stream started (0.0 before it starts).
        delivered: What the sink confirmed: Kafka messages acknowledged by the broker, WebSocket messages
            written to clients (summed over clients), rows written to files or put on the queue, rows
            handed out by ``generate_stream``.
        failed: Messages the sink reported as not delivered (Kafka delivery errors).
        errors: Errors reported by the sink's client library while streaming (a broker going down ...).
        backpressure_waits: Times the stream waited because the sink's buffer was full (it never drops
            rows for that reason).
        dropped: WebSocket messages dropped for clients too slow to keep up (see the WebSocket sink).
        in_flight: Rows handed to the sink that it has not confirmed yet.
        target_rate: The requested rows per second, or None.
        seed: The seed of the generation stream (drawn when the config had none).
    """

    total_samples: int = 0
    total_batches: int = 0
    start_time: float = 0.0
    delivered: int = 0
    failed: int = 0
    errors: int = 0
    backpressure_waits: int = 0
    dropped: int = 0
    in_flight: int = 0
    target_rate: float | None = None
    seed: int | None = None
    _started: float = field(default=0.0, repr=False)
    _stopped: float | None = field(default=None, repr=False)

    def start(self, *, target_rate: float | None, seed: int) -> None:
        """Reset the counters and the clock for a new run."""
        for item in dataclasses.fields(self):
            setattr(self, item.name, item.default)
        self.start_time, self._started = time.time(), time.monotonic()
        self.target_rate, self.seed = target_rate, seed

    def finish(self) -> None:
        """Freeze the clock (rates are then over the whole run)."""
        if self._stopped is None:
            self._stopped = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since the stream started (until it finished)."""
        if not self._started:
            return 0.0
        return (self._stopped if self._stopped is not None else time.monotonic()) - self._started

    def samples_per_second(self) -> float:
        """Rows per second over the run so far."""
        elapsed = self.elapsed
        return self.total_samples / elapsed if elapsed > 0 else 0.0

    @property
    def lag(self) -> int:
        """Rows the stream is behind its target rate (0 without one, or when it keeps up)."""
        if self.target_rate is None:
            return 0
        return max(0, int(self.target_rate * self.elapsed) - self.total_samples)

    def snapshot(self) -> StreamingStats:
        """A copy of the counters as they are now."""
        return dataclasses.replace(self)
