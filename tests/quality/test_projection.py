"""The PCA projection is fitted on the real rows."""
from __future__ import annotations

import numpy as np
import pytest

from genesis_sql.quality.projection import project


def test_projection_in_real_coordinates():
    rng = np.random.default_rng(0)
    real = np.column_stack([rng.normal(scale=10, size=500), rng.normal(scale=1, size=500), np.zeros(500)])
    result = project(real, real + [0, 0, 5], seed=0)
    assert result.real.shape == (500, 2) and result.synthetic.shape == (500, 2)
    assert result.explained_variance[0] > 0.95
    # The third column has no real variance, so a shift along it does not move the projection.
    assert result.synthetic == pytest.approx(result.real)


def test_projection_of_a_single_feature_pads_the_second_axis():
    result = project(np.arange(10.0)[:, None], np.arange(5.0)[:, None], seed=0)
    assert result.real.shape == (10, 2) and np.all(result.real[:, 1] == 0) and len(result.explained_variance) == 1
