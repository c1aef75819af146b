"""A guide table answers exactly as np.searchsorted, whatever the values and keys, for one array or several."""
from __future__ import annotations

import numpy as np
import pytest

from genesis_sql.models._search import GuideTable

RNG = np.random.default_rng(0)


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    normal = np.sort(RNG.standard_normal(2049))
    cumulative = np.cumsum(RNG.exponential(size=5_000))
    # Long runs of equal values (zero weights, point masses) and a crowded bucket force the fallback.
    ties = np.sort(np.r_[np.zeros(500), np.ones(300), RNG.random(200), 1e-12 * RNG.random(400)])
    integers = np.repeat(np.arange(10.0), 7)
    return [
        ("normal", normal, np.r_[RNG.standard_normal(10_000) * 1.5, normal[::7]]),
        ("cumulative", cumulative, RNG.random(10_000) * cumulative[-1] * 1.01),
        ("ties", ties, np.r_[RNG.random(5_000) * 1.2 - 0.1, ties, 1e-12 * RNG.random(500)]),
        ("integers", integers, np.r_[np.arange(-1.0, 11.0, 0.5), integers]),
        ("single", np.array([3.0]), np.array([2.0, 3.0, 4.0])),
        ("constant", np.full(50, 2.0), np.array([1.0, 2.0, 3.0, np.inf, -np.inf])),
        ("empty", np.zeros(0), np.array([0.0, 1.0])),
        ("large offset", 1e6 + np.sort(RNG.random(1_000)) * 1e-3, 1e6 + RNG.random(1_000) * 1.2e-3),
        ("infinite and NaN keys", normal, np.array([np.inf, -np.inf, np.nan, 0.0])),
    ]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(("name", "values", "keys"), _cases(), ids=[c[0] for c in _cases()])
def test_equals_searchsorted(name, values, keys, side):
    got = GuideTable([values], side=side).search(keys[None])[0]
    assert np.array_equal(got, np.searchsorted(values, keys, side=side))


@pytest.mark.parametrize("side", ["left", "right"])
def test_several_arrays_are_searched_each_in_its_own(side):
    cases = _cases()
    width = max(keys.size for _, _, keys in cases)
    keys = np.stack([np.resize(k, width) for _, _, k in cases])  # one row of keys per array
    table = GuideTable([values for _, values, _ in cases], side=side)
    expected = np.stack([np.searchsorted(values, row, side=side) for (_, values, _), row in zip(cases, keys)])
    assert np.array_equal(table.search(keys), expected)
    assert np.array_equal(table.locate(keys), expected + table.offsets[:, None])
