"""Latent correlation: the correlation of the normals behind coarsened scores is recovered, where the
scores' own Pearson correlation understates it."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri

from genesis_sql.models._latent_correlation import hermite_coefficients, latent_correlation


def mid_rank_scores(values: np.ndarray) -> np.ndarray:
    """Each value's normal score at the middle of its share of the rows, as the codecs score them."""
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    share = counts / counts.sum()
    return ndtri(np.cumsum(share) - share / 2.0)[inverse]


@pytest.mark.parametrize("rho", [-0.5, 0.2, 0.6, 0.9])
def test_recovers_the_latent_correlation_of_binary_ordinal_and_continuous_columns(rho):
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal(np.zeros(3), np.full((3, 3), rho) + (1 - rho) * np.eye(3), size=100_000)
    scores = np.column_stack([mid_rank_scores(z[:, 0] > ndtri(0.7)),              # a coin with p = 0.3
                              mid_rank_scores(np.digitize(z[:, 1], [-1.0, 0.2, 0.8])),  # four ordered levels
                              z[:, 2]])
    naive = np.corrcoef(scores, rowvar=False)
    latent = latent_correlation(scores)
    assert np.abs(latent[np.triu_indices(3, 1)] - rho).max() < 0.03
    assert np.abs(naive[0, 1]) < np.abs(rho) - 0.05  # what the copula used to fit


def test_a_continuous_column_is_its_own_normal_and_a_constant_one_has_no_correlation():
    rng = np.random.default_rng(1)
    coefficients = hermite_coefficients(mid_rank_scores(rng.standard_normal(50_000)))
    assert coefficients[0] == pytest.approx(1.0, abs=1e-3) and np.abs(coefficients[1:]).max() < 5e-3
    scores = np.column_stack([rng.standard_normal(1000), np.zeros(1000)])
    assert np.array_equal(latent_correlation(scores), np.eye(2))
    assert latent_correlation(np.zeros((10, 0))).shape == (0, 0)
