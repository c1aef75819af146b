"""Rate control: a token bucket that tells the caller how long to wait before sending rows.

The bucket fills at ``rate`` tokens (rows) per second up to ``burst`` tokens and starts full. Taking
``n`` rows may drive it below zero; the caller then waits until it is back at zero, so over any window of
``T`` seconds at most ``burst + rate * T`` rows go out, and a sender that keeps up sends ``rate * T``
give or take ``burst``. With ``burst`` at a tenth of a second's worth, a 10 s window is within 1% of
the target. The bucket never sleeps itself: callers wait on something they can interrupt (a stop event).

Example:
    >>> now = [0.0]
    >>> bucket = TokenBucket(1000, burst=100, clock=lambda: now[0])
    >>> bucket.reserve(100), bucket.reserve(100)
    (0.0, 0.1)
    >>> now[0] = 0.1
    >>> bucket.reserve(50)
    0.05
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

from genesis_sql.errors import InvalidArgumentError

# A sender's slices hold at most this many seconds' worth of rows at the target rate.
SLICE_SECONDS = 0.1


def slice_rows(rate: float | None, limit: int) -> int:
    """Rows per slice: ``limit``, or fewer so that one slice is at most SLICE_SECONDS at ``rate``."""
    if rate is None:
        return limit
    return max(1, min(limit, math.ceil(rate * SLICE_SECONDS)))


class TokenBucket:
    """A token bucket over rows.

    Args:
        rate: Rows per second.
        burst: Most rows sendable at once after an idle spell (the bucket's size).
        clock: Monotonic seconds; ``time.monotonic`` unless a test drives time itself.
    """

    def __init__(self, rate: float, *, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate > 0 or not burst > 0:
            raise InvalidArgumentError(f"A token bucket needs a positive rate and burst. Got rate={rate!r}, "
                                       f"burst={burst!r}.")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()

    def reserve(self, rows: int) -> float:
        """Take ``rows`` tokens; returns the seconds to wait before sending them (0.0 when none)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate) - rows
        self._last = now
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate
