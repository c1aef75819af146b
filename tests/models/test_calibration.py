"""Calibration maps a model's samples to standard-normal marginals, keeping ranks and point masses."""
from __future__ import annotations

import numpy as np
from scipy import stats

from genesis_sql.models._calibration import Calibration


def test_a_skewed_sample_becomes_standard_normal_in_the_same_order():
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.exponential(size=50_000), rng.uniform(-3, 9, size=50_000)])
    calibration = Calibration.fit(raw)
    fresh = np.column_stack([rng.exponential(size=20_000), rng.uniform(-3, 9, size=20_000)])
    mapped = calibration.apply(fresh)
    for k in range(2):
        assert stats.kstest(mapped[:, k], "norm").statistic < 0.02
        order = np.argsort(fresh[:, k])
        assert np.all(np.diff(mapped[order, k]) >= 0)


def test_a_point_mass_maps_to_the_middle_of_its_share():
    rng = np.random.default_rng(1)
    raw = np.where(rng.random(40_000) < 0.3, 0.0, rng.exponential(size=40_000) + 1.0)[:, None]
    mapped = Calibration.fit(raw).apply(np.array([[0.0]]))[0, 0]
    assert abs(stats.norm.cdf(mapped) - 0.15) < 0.01
