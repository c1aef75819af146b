"""Conditional sampling of the adversarial random forest's leaf mixture (genesis_sql.models.arf).

Conditions on ranges and categories reweight the leaves by their mass in the condition's region and draw
each constrained dimension from the leaf restricted to its allowed set (Watson et al.'s conditional FORGE).
A linear condition between two continuous columns (genesis_sql.models._pair) is met inside each leaf, where
the two columns are independent (:class:`LeafCells`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from genesis_sql.models._calibration import Calibration
from genesis_sql.models._forest import (
    SparseCategories,
    TruncatedNormals,
    _normal_mass,
    _piece_masses,
    pick_by_weight,
    truncated_normal,
    truncated_normal_in,
)
from genesis_sql.models._latent import LatentRegion
from genesis_sql.models._pair import PairScores
from genesis_sql.models._random import DIMS_PER_ATTEMPT, row_states, uniforms
from genesis_sql.models._search import GuideTable

if TYPE_CHECKING:
    from genesis_sql.models.arf import AdversarialRandomForest


class LeafProposal:
    """Exact conditional sampling of the leaf mixture inside a region of latent scores (Watson et al.'s
    conditional FORGE): each leaf's weight times its mass in the region picks the leaf, and each constrained
    dimension is drawn from the leaf's distribution restricted to its allowed set.

    A linear condition between two continuous columns (the region's pair) is met inside each leaf, where
    the two are independent: the leaf's driver range is cut into cells, a (leaf, cell) is picked by the
    leaf's weight times the cell's mass times a bound on the target's allowed mass given a driver in it,
    the driver is drawn in its cell and the target inside what the driver allows it, and the target's mass
    over the bound is the candidate's weight (accepted with that probability: exact, since it is at most 1).

    Args:
        model: the fitted forest.
        region: allowed intervals of the constrained latent dimensions, in the codecs' normal scale.
    """

    def __init__(self, model: AdversarialRandomForest, region: LatentRegion) -> None:
        self.model = model
        self.region = region
        mixture, encoding = model.mixture_, model.encoding_
        weight = mixture.weight.copy()
        self.continuous: dict[int, np.ndarray] = {}
        self.categorical: dict[int, SparseCategories] = {}
        pair = region.pair
        paired = region.dims[:2] if pair is not None and set(region.dims[:2]) <= set(mixture.continuous) else ()
        for j, intervals in zip(region.dims, region.intervals):
            if j in mixture.categorical:
                k = mixture.categorical.index(j)
                middles = encoding.category_normals(j)
                inside = (middles[:, None] >= intervals[None, :, 0]) & (middles[:, None] <= intervals[None, :, 1])
                allowed = inside.any(axis=1)
                self.categorical[j], share = mixture.restricted(k, allowed)
                weight *= share
            else:
                k = mixture.continuous.index(j)
                raw = np.column_stack([model.calibration_.invert(intervals[:, 0], k),
                                       model.calibration_.invert(intervals[:, 1], k)])
                self.continuous[j] = raw
                if j not in paired:
                    weight *= mixture.interval_mass(k, raw)
        self.cells = LeafCells(model, pair, *paired, self.continuous, weight) if paired else None
        if self.cells is not None:
            weight = self.cells.weight
        self.first_mass = float(weight.sum())
        self.is_empty = region.is_empty or self.first_mass <= 0
        self.leaf_guide = GuideTable([np.cumsum(weight)], side="right")

    def propose_weighted(self, rows: np.ndarray, attempts: np.ndarray, key: int
                         ) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        """Candidate rows, their weights and whether each is accepted (all, with weight 1, without a pair)."""
        model, mixture = self.model, self.model.mixture_
        states = row_states(key, rows)
        dims = model.encoding_.dims
        u = uniforms(states, dims + 1, attempts=attempts)
        picked = pick_by_weight(self.leaf_guide, u[:, 0])
        leaf = picked if self.cells is None else picked // self.cells.count
        z = mixture.sample(u, model.encoding_, leaf=leaf)
        for j, raw in self.continuous.items():
            if self.cells is not None and j in (self.cells.driver, self.cells.target):
                continue
            k = mixture.continuous.index(j)
            z[:, j] = truncated_normal_in(u[:, 1 + j], mixture.mean[leaf, k], mixture.sd[leaf, k], mixture.low[leaf, k],
                                          mixture.high[leaf, k], raw)
        weights = np.ones(rows.size)
        if self.cells is not None:
            weights = self.cells.draw(z, u, leaf, picked % self.cells.count)
        for j, sampler in self.categorical.items():
            z[:, j] = model.encoding_.category_normals(j)[sampler.pick(leaf, u[:, 1 + j])]
        cols = mixture.continuous
        if cols:
            z[:, cols] = model.calibration_.apply(z[:, cols])
        table = model.encoding_.decode(rows, attempts, key, states, z, offset=dims + 1)
        if self.cells is None:
            return table, weights, np.ones(rows.size, dtype=bool)
        accept_u = uniforms(states, 1, attempts=attempts, offset=DIMS_PER_ATTEMPT - 2)[:, 0]
        return table, weights, accept_u < weights

    def propose(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> tuple[pa.Table, np.ndarray]:
        """Candidate rows for ``rows`` at tries ``attempts``, and whether each is accepted."""
        table, _, accepted = self.propose_weighted(rows, attempts, key)
        return table, accepted


def _piece_total(mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray, intervals: np.ndarray
                 ) -> np.ndarray:
    """Each row's normal mass in [low, high] intersected with the union of ``intervals``."""
    return _piece_masses(mean, sd, low, high, intervals).sum(axis=1)


def _draw_within(u: np.ndarray, mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray,
                 intervals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draws of N(mean, sd) restricted to [low, high] and the union of ``intervals`` (k x 2), and each row's
    normal mass there (0 where nothing is allowed; the draw is then some value of the leaf's)."""
    if intervals.shape[0] > 1:
        mass = _piece_total(mean, sd, low, high, intervals)
        inside = mass > 0
        draw = truncated_normal_in(u, mean, sd, np.where(inside, low, mean), np.where(inside, high, mean), intervals)
        return np.where(inside, draw, mean), mass
    # One allowed interval (often the whole line): the truncated normal's own width is the mass.
    low, high = np.maximum(low, intervals[0, 0]), np.minimum(high, intervals[0, 1])
    inside = high >= low
    low, high = np.where(inside, low, mean), np.where(inside, high, mean)
    normals = TruncatedNormals.of(mean, sd, low, high)
    mass = np.where(sd > 0, np.abs(normals.width), ((low <= mean) & (mean <= high)).astype(float))
    return normals.invert(u), np.where(inside, mass, 0.0)


# Cells a leaf's driver range is cut into (of equal mass under the leaf's driver distribution).
_CELLS = 16


class LeafCells:
    """A pair's driver cells in every leaf, and the bounds that make drawing the target exact.

    Args:
        model: the fitted forest.
        pair: the pair's scores (genesis_sql.models._pair).
        driver, target: the pair's latent dimensions (continuous in the mixture).
        raw: every constrained continuous dimension's allowed raw (uncalibrated) intervals.
        weight: each leaf's weight times its mass in the region's other dimensions.
    """

    count = _CELLS

    def __init__(self, model: AdversarialRandomForest, pair: PairScores, driver: int, target: int,
                 raw: dict[int, np.ndarray], weight: np.ndarray) -> None:
        mixture = model.mixture_
        self.model, self.pair, self.driver, self.target = model, pair, driver, target
        self.raw_driver, self.raw_target = raw[driver], raw[target]
        self.k_driver, self.k_target = mixture.continuous.index(driver), mixture.continuous.index(target)
        self.driver_calibration = Calibration(model.calibration_.knots[:, [self.k_driver]])
        mean, sd, low, high = (np.asarray(a[:, self.k_driver], dtype=np.float64)
                               for a in (mixture.mean, mixture.sd, mixture.low, mixture.high))
        levels = np.linspace(0.0, 1.0, _CELLS + 1)
        edges = truncated_normal(np.broadcast_to(levels, (mean.size, _CELLS + 1)), mean[:, None], sd[:, None],
                                 low[:, None], high[:, None])
        edges[:, 0], edges[:, -1] = low, high
        self.edges = np.maximum.accumulate(edges, axis=1)
        leaves = np.repeat(np.arange(mean.size), _CELLS)
        start, end = self.edges[:, :-1].ravel(), self.edges[:, 1:].ravel()
        # Each cell's share of its leaf's driver distribution, inside the driver's allowed intervals; a leaf
        # of one driver value has all its cells at that value, and only the first holds it.
        cell = _piece_total(mean[leaves], sd[leaves], start, end, self.raw_driver) / np.maximum(
            _normal_mass(mean[leaves], sd[leaves], low[leaves], high[leaves]), 1e-300)
        cell[(sd[leaves] <= 0) & (np.arange(leaves.size) % _CELLS > 0)] = 0.0
        # The target's allowed range moves monotonically with the driver: over a cell it lies within the
        # hull of its ranges at the cell's ends, and in a leaf the target does not depend on the driver.
        hull = [self._target_raw(start), self._target_raw(end)]
        target = [np.asarray(a[:, self.k_target], dtype=np.float64) for a in (mixture.mean, mixture.sd, mixture.low,
                                                                              mixture.high)]
        self.target_mass = np.maximum(_normal_mass(*target), 1e-300)  # each leaf's whole target mass
        self.bound = self._target_share(leaves, np.minimum(hull[0][0], hull[1][0]), np.maximum(hull[0][1], hull[1][1]))
        self.weight = np.repeat(weight, _CELLS) * cell * self.bound

    def _target_raw(self, driver_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The target's allowed raw range for raw driver values."""
        scores = self.driver_calibration.apply(driver_raw[:, None])[:, 0]
        low, high = self.pair.target_scores(scores)
        calibration = self.model.calibration_
        return calibration.invert(low, self.k_target), calibration.invert(high, self.k_target)

    def _target_share(self, leaf: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The share of each row's leaf target distribution in [low, high] and the target's allowed intervals."""
        mixture, k = self.model.mixture_, self.k_target
        mean, sd = mixture.mean[leaf, k].astype(float), mixture.sd[leaf, k].astype(float)
        lo, hi = mixture.low[leaf, k].astype(float), mixture.high[leaf, k].astype(float)
        inside = _piece_total(mean, sd, np.maximum(lo, low), np.minimum(hi, high), self.raw_target)
        return inside / np.maximum(_normal_mass(mean, sd, lo, hi), 1e-300)

    def draw(self, z: np.ndarray, u: np.ndarray, leaf: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Draw the driver in its cell and the target inside what the driver allows it (raw scores, into ``z``);
        returns each row's weight (the target's allowed share over its cell's bound)."""
        mixture, k, t = self.model.mixture_, self.k_driver, self.k_target
        low = np.maximum(mixture.low[leaf, k], self.edges[leaf, cell])
        high = np.minimum(mixture.high[leaf, k], self.edges[leaf, cell + 1])
        z[:, self.driver] = _draw_within(u[:, 1 + self.driver], mixture.mean[leaf, k].astype(float),
                                         mixture.sd[leaf, k].astype(float), low, high, self.raw_driver)[0]
        allowed_low, allowed_high = self._target_raw(z[:, self.driver])
        z[:, self.target], mass = _draw_within(
            u[:, 1 + self.target], mixture.mean[leaf, t].astype(float), mixture.sd[leaf, t].astype(float),
            np.maximum(mixture.low[leaf, t], allowed_low), np.minimum(mixture.high[leaf, t], allowed_high),
            self.raw_target)
        bound = self.bound[leaf * _CELLS + cell] * self.target_mass[leaf]
        return np.where(bound > 0, mass / np.where(bound > 0, bound, 1.0), 0.0)
