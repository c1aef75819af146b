"""A 2-D PCA projection of real and synthetic rows, for the report's scatter plot.

The components are fitted on the real rows only, so the synthetic cloud is drawn in the real data's
own coordinates: where it covers, misses or overshoots the real one shows directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from genesis_sql.quality._threads import one_thread


@dataclass(frozen=True)
class Projection:
    """Projected points of each side and the share of real variance each component explains."""

    real: np.ndarray
    synthetic: np.ndarray
    explained_variance: tuple[float, ...]


def project(real: np.ndarray, synthetic: np.ndarray, *, seed: int) -> Projection:
    """Fit a 2-component PCA on ``real`` (a feature matrix) and project both sides.

    Args:
        real: Real rows as a float feature matrix.
        synthetic: Synthetic rows with the same feature columns.
        seed: Seeds the randomized solver used for large inputs.

    Returns:
        Points as (rows, 2) arrays; fewer components when the data has fewer than two dimensions.
    """
    components = min(2, real.shape[1], len(real))
    if components == 0:
        empty = np.zeros((0, 2))
        return Projection(empty, empty, ())
    with one_thread():
        pca = PCA(n_components=components, random_state=seed).fit(real)
        points = pca.transform(real), pca.transform(synthetic)
    pad = [(0, 0), (0, 2 - components)]
    return Projection(np.pad(points[0], pad), np.pad(points[1], pad),
                      tuple(float(v) for v in pca.explained_variance_ratio_))
