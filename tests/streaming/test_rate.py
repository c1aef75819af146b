"""Token bucket: a sender that obeys it holds the rate, whatever the slice size."""
from __future__ import annotations

import pytest

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.streaming.rate import TokenBucket, slice_rows


class _Clock:
    """Simulated time that a simulated sender advances."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("rate", [100, 5_000, 250_000])
def test_obedient_sender_holds_the_rate_over_ten_seconds(rate):
    clock = _Clock()
    size = slice_rows(rate, 10_000)
    bucket = TokenBucket(rate, burst=size, clock=clock)
    sent = 0
    while clock.now < 10.0:
        clock.now += bucket.reserve(size) + 0.0001  # waits as told, plus the cost of sending
        sent += size
    assert abs(sent / clock.now - rate) / rate < 0.05


def test_idle_time_buys_at_most_one_burst():
    clock = _Clock()
    bucket = TokenBucket(1000, burst=100, clock=clock)
    clock.now = 60.0
    assert bucket.reserve(100) == 0.0
    assert bucket.reserve(100) == pytest.approx(0.1)


def test_slices_are_a_tenth_of_a_second_of_rows():
    assert slice_rows(None, 10_000) == 10_000
    assert slice_rows(50_000, 10_000) == 5_000
    assert slice_rows(3, 10_000) == 1


def test_rate_must_be_positive():
    with pytest.raises(InvalidArgumentError, match="positive rate"):
        TokenBucket(0, burst=1)
