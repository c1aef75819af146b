"""StreamingConfig validation and limits; StreamingStats rates and lag."""
from __future__ import annotations

import re
import time

import pytest

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.streaming import StreamingConfig, StreamingStats


def test_row_limit_is_the_tighter_limit():
    assert StreamingConfig().row_limit is None
    assert StreamingConfig(batch_size=100, max_batches=3).row_limit == 300
    assert StreamingConfig(batch_size=100, max_batches=3, max_rows=250).row_limit == 250


@pytest.mark.parametrize(("options", "message"), [
    ({"batch_size": 0}, "batch_size must be a whole number of at least 1, such as 10000. Got 0."),
    ({"max_rows": -5}, "max_rows must be a whole number of at least 0, such as 1000000. Got -5."),
    ({"max_batches": 1.5}, "max_batches must be a whole number of at least 0, such as 100. Got 1.5."),
    ({"rate": 0}, "rate must be a positive number of rows per second, such as 50000. Got 0."),
    ({"delay_between_batches": -1}, "delay_between_batches must be zero or a positive number of seconds. Got -1."),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        StreamingConfig(**options)


def test_with_rate_overrides_only_when_given():
    config = StreamingConfig(rate=10)
    assert config.with_rate(None) is config
    assert config.with_rate(20).rate == 20


def test_stats_report_rate_and_lag():
    stats = StreamingStats()
    stats.start(target_rate=1_000_000.0, seed=1)
    stats.total_samples = 10
    time.sleep(0.01)
    stats.finish()
    assert stats.elapsed > 0
    assert stats.samples_per_second() == pytest.approx(10 / stats.elapsed)
    assert stats.lag == int(1_000_000 * stats.elapsed) - 10 > 9000
    snapshot = stats.snapshot()
    stats.total_samples = 99
    assert snapshot.total_samples == 10
