"""The latent correlation behind a pair of coarsened normal scores.

A copula sees each column through its normal scores: for a category, a boolean or a number with few
values, one score per value, so every latent normal in that value's interval is read as the same
score. The Pearson correlation of such step functions of two normals is weaker than the correlation of
the normals themselves (two fair coins cut from normals correlated 0.6 correlate only 0.41), and a copula
fitted on it makes categorical columns less dependent than the data (Cramér's V 0.55 in Benefits came
out 0.32). Here each observed correlation is inverted to the latent one that produces it.

For step functions ``f``, ``g`` of standard normals with correlation ``rho``, Mehler's expansion gives
``corr(f, g) = sum_k rho^k a_k b_k``, with ``a_k``, ``b_k`` their coefficients on the normalised Hermite
polynomials, which have closed forms at the steps' edges. For nondecreasing scores the sum grows with
``rho``, so the latent correlation is found by bisection, all pairs at once. A continuous column's scores
are (nearly) its normal itself, with ``a_1 = 1`` and nothing else: its pairs keep their correlation.
This is the polychoric/polyserial correlation of the classical literature, computed from the moments the
copula already uses.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

# Hermite terms kept. Truncation loses sum_{k > TERMS} rho^k a_k b_k <= rho^TERMS: nothing at the
# correlations where coarsening matters, and the bisection clamps to what the terms can reach.
TERMS = 40
_BISECTIONS = 48


def hermite_coefficients(scores: np.ndarray) -> np.ndarray:
    """Coefficients (``TERMS``) of the standardised scores of one column on the normalised Hermite
    polynomials, reading the scores as a nondecreasing step function of a standard normal whose steps
    hold each distinct score's share of the rows."""
    values, counts = np.unique(scores, return_counts=True)
    share = counts / counts.sum()
    mean = share @ values
    spread = np.sqrt(share @ (values - mean) ** 2)
    if not spread > 0:
        return np.zeros(TERMS)
    standard = (values - mean) / spread
    # Edges of the steps on the normal scale (the outermost at infinity, where every term vanishes).
    edges = ndtri(np.clip(np.cumsum(share)[:-1], 1e-16, 1.0 - 1e-16))
    density = np.exp(-edges**2 / 2.0) / np.sqrt(2.0 * np.pi)
    # The integral of h_k phi over a step is (h_{k-1} phi at its lower edge - at its upper edge) / sqrt(k),
    # so a step function's coefficient sums, edge by edge, the score's jump there times h_{k-1} phi.
    jumps = np.diff(standard)
    previous, current = np.zeros_like(edges), np.ones_like(edges)  # h_{k-2}, h_{k-1} at the edges
    out = np.empty(TERMS)
    for k in range(1, TERMS + 1):
        out[k - 1] = (jumps * current * density).sum() / np.sqrt(k)
        previous, current = current, (edges * current - np.sqrt(k - 1) * previous) / np.sqrt(k)
    return out


def latent_correlation(scores: np.ndarray) -> np.ndarray:
    """The latent correlation matrix of the columns of ``scores`` (rows x columns of normal scores):
    each pair's Pearson correlation inverted through its columns' coarsening. Constant columns get 0."""
    columns = scores.shape[1]
    if columns == 0:
        return np.zeros((0, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.nan_to_num(np.atleast_2d(np.corrcoef(scores, rowvar=False)))
    coefficients = np.stack([hermite_coefficients(scores[:, j]) for j in range(columns)])
    return invert_correlation(observed, coefficients)


def invert_correlation(observed: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The latent correlation matrix behind an ``observed`` Pearson correlation matrix of normal scores,
    given each column's Hermite coefficients (one row per column, :func:`hermite_coefficients`).

    Federated training (genesis_sql.federated) has the correlation from summed cross-products and the
    coefficients from the agreed marginals, never the rows themselves.
    """
    products = coefficients[:, None, :] * coefficients[None, :, :]
    powers = np.arange(1, TERMS + 1)
    low, high = np.full(observed.shape, -1.0), np.full(observed.shape, 1.0)
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2.0
        implied = (middle[..., None] ** powers * products).sum(axis=-1)
        below = implied < observed
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    latent = (low + high) / 2.0
    latent[np.abs(observed) < 1e-12] = 0.0
    np.fill_diagonal(latent, 1.0)
    return (latent + latent.T) / 2.0
