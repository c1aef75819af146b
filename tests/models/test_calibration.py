"""Calibration maps a model's samples to standard-normal marginals, keeping ranks and point masses."""
from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import ndtri

from genesis_sql.models._calibration import _LEVELS, _NORMALS, _REACH, KNOTS, Calibration, sorted_quantiles


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


def _reference_apply(knots: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The map as first written: two bisections per score, a tie's normal computed for every score."""
    out = np.empty_like(z)
    for k in range(z.shape[1]):
        column, x = knots[:, k], z[:, k]
        left = np.searchsorted(column, x, side="left")
        right = np.searchsorted(column, x, side="right")
        inner = np.clip(left, 1, KNOTS - 1)
        low, high = column[inner - 1], column[inner]
        fraction = np.clip((x - low) / np.where(high > low, high - low, 1.0), 0.0, 1.0)
        between = _NORMALS[inner - 1] + fraction * (_NORMALS[inner] - _NORMALS[inner - 1])
        tied = ndtri((_LEVELS[np.minimum(left, KNOTS - 1)] + _LEVELS[np.maximum(right - 1, 0)]) / 2.0)
        out[:, k] = np.where(right > left, tied, between)
    return out


def test_the_fast_map_equals_the_reference_formula_ties_included():
    rng = np.random.default_rng(2)
    n = 40_000
    raw = np.column_stack([
        rng.exponential(size=n),
        np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),      # a point mass inside
        np.round(rng.normal(size=n) * 2) / 2,                         # only point masses
        np.where(rng.random(n) < 0.4, -1.0, rng.random(n)),          # a point mass at the bottom
        np.full(n, 2.0),                                               # a single value
    ])
    calibration = Calibration.fit(raw)
    z = np.column_stack([
        rng.exponential(size=n) * 1.2 - 0.1,
        np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n) * 1.5),
        np.round(rng.normal(size=n) * 3) / 2,
        np.where(rng.random(n) < 0.4, -1.0, rng.random(n) * 3 - 2),
        rng.choice([1.0, 2.0], n),
    ])
    z[:500] = np.take_along_axis(calibration.knots, rng.integers(0, KNOTS, (500, 5)), axis=0)  # knots exactly
    # Beyond a point mass at the top the reference interpolated by distance in raw units (an artefact);
    # both give the top normal beyond any other top knot.
    z = np.minimum(z, np.where(calibration.knots[-1] == calibration.knots[-2], calibration.knots[-1], np.inf))
    assert np.allclose(calibration.apply(z), _reference_apply(calibration.knots, z), rtol=0, atol=1e-9)


def test_scores_beyond_the_knots_map_to_the_outermost_normals():
    calibration = Calibration.fit(np.random.default_rng(3).normal(size=(20_000, 1)))
    mapped = calibration.apply(np.array([[-np.inf], [-50.0], [50.0], [np.inf]]))[:, 0]
    assert np.array_equal(mapped, [-_REACH, -_REACH, _REACH, _REACH])


def test_sorted_quantiles_match_numpy_for_columns_and_single_arrays():
    rng = np.random.default_rng(5)
    levels = np.r_[0.0, np.sort(rng.random(500)), 1.0]
    single = np.sort(np.r_[rng.standard_normal(3_000), np.zeros(200)])
    table = np.sort(rng.exponential(size=(1_000, 3)), axis=0)
    assert np.allclose(sorted_quantiles(single, levels), np.quantile(single, levels), rtol=0, atol=1e-12)
    assert np.allclose(sorted_quantiles(table, levels), np.quantile(table, levels, axis=0), rtol=0, atol=1e-12)
