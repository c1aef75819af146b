"""The forest parts of the adversarial random forest: adversarial training, leaf summaries, leaf sampling.

Features are latent columns: standard-normal scores for continuous dimensions and category indices for
categorical ones. A :class:`LeafMixture` is the fitted density: one weighted component per kept leaf,
each a product of one-dimensional distributions, stored as flat arrays.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr, ndtri
from sklearn.ensemble import RandomForestClassifier

if TYPE_CHECKING:
    from genesis_sql.models._encoding import TableEncoding


def _independent_sample(features: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows whose columns are drawn independently from the columns of ``features``."""
    return np.column_stack([rng.permutation(features[:, j]) for j in range(features.shape[1])])


def _leaf_sample(forest: RandomForestClassifier, features: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows drawn leaf by leaf: a tree at random, a training row's leaf, each column from a row of that leaf."""
    n, d = features.shape
    nodes = forest.apply(features)
    trees = rng.integers(0, nodes.shape[1], size=n)
    out = np.empty_like(features)
    for t in np.unique(trees):
        mine = np.flatnonzero(trees == t)
        leaf_of = nodes[:, t]
        order = np.argsort(leaf_of, kind="stable")
        sorted_leaves = leaf_of[order]
        chosen = leaf_of[rng.integers(0, n, size=mine.size)]
        start = np.searchsorted(sorted_leaves, chosen, side="left")
        count = np.searchsorted(sorted_leaves, chosen, side="right") - start
        for j in range(d):
            pick = order[start + (rng.random(mine.size) * count).astype(np.int64)]
            out[mine, j] = features[pick, j]
    return out


def adversarial_forest(features: np.ndarray, categorical: list[int], rng: np.random.Generator, *, n_trees: int,
                       min_leaf: int, max_iterations: int, delta: float, max_rows: int
                       ) -> tuple[RandomForestClassifier, float]:
    """The forest of the last adversarial round and its out-of-bag accuracy.

    Rounds stop when the accuracy is at most 0.5 + ``delta``, stops falling, or after ``max_iterations``.
    """
    if features.shape[0] > max_rows:
        features = features[np.sort(rng.choice(features.shape[0], max_rows, replace=False))]
    n = features.shape[0]
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    fake = _independent_sample(features, rng)
    best = None
    for _ in range(max(max_iterations, 1)):
        forest = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=min_leaf, max_features="sqrt",
                                        oob_score=True, random_state=int(rng.integers(2**31)), n_jobs=1)
        forest.fit(np.vstack([features, fake]), labels)
        accuracy = float(forest.oob_score_)
        print("iteration accuracy", accuracy, flush=True)
        if best is not None and accuracy >= best[1]:
            break
        best = (forest, accuracy)
        if accuracy <= 0.5 + delta:
            break
        fake = _leaf_sample(forest, features, rng)
    return best


def _node_bounds(tree: Any, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of every node of a fitted sklearn tree per feature: the box its splits carve out."""
    structure = tree.tree_
    left, right = structure.children_left, structure.children_right
    feature, threshold = structure.feature, structure.threshold
    low = np.full((structure.node_count, dims), -np.inf)
    high = np.full((structure.node_count, dims), np.inf)
    level = np.array([0])
    while level.size:  # one depth at a time: children inherit the box, then narrow it on their split
        split = level[left[level] >= 0]
        kids_left, kids_right, f = left[split], right[split], feature[split]
        for kids in (kids_left, kids_right):
            low[kids], high[kids] = low[split], high[split]
        high[kids_left, f] = np.minimum(high[split, f], threshold[split])
        low[kids_right, f] = np.maximum(low[split, f], threshold[split])
        level = np.concatenate([kids_left, kids_right])
    return low, high


class LeafMixture:
    """A weighted mixture of leaves, each a product of one-dimensional distributions.

    Continuous dimensions are normals truncated to the leaf's box (within the data's range); a leaf whose
    rows share one value keeps that value. Categorical dimensions are the leaf's category frequencies,
    stored sparsely: entries sorted by leaf, with cumulative probabilities offset by the leaf number.
    """

    def __init__(self, continuous: list[int], categorical: list[int], weight: np.ndarray, mean: np.ndarray,
                 sd: np.ndarray, low: np.ndarray, high: np.ndarray, codes: list[np.ndarray],
                 cumulative: list[np.ndarray]) -> None:
        self.continuous = continuous
        self.categorical = categorical
        self.cumulative_weight = np.cumsum(weight)
        self.weight = weight
        self.mean, self.sd, self.low, self.high = mean, sd, low, high
        self.codes = codes
        self.cumulative = cumulative

    @property
    def leaves(self) -> int:
        """Number of components."""
        return self.weight.size

    def pick_leaves(self, u: np.ndarray) -> np.ndarray:
        """The leaf of each row for uniforms ``u`` (chosen by weight)."""
        total = self.cumulative_weight[-1]
        return np.minimum(np.searchsorted(self.cumulative_weight, u * total, side="right"), self.leaves - 1)

    def sample(self, u: np.ndarray, encoding: TableEncoding) -> np.ndarray:
        """Latent scores (rows x dims) from uniforms (rows x 1 + dims): the first picks the leaf."""
        leaf = self.pick_leaves(u[:, 0])
        z = np.empty((u.shape[0], len(self.continuous) + len(self.categorical)))
        if self.continuous:
            cols = np.array(self.continuous)
            z[:, cols] = truncated_normal(u[:, 1 + cols], self.mean[leaf], self.sd[leaf], self.low[leaf],
                                          self.high[leaf])
        for k, j in enumerate(self.categorical):
            position = np.searchsorted(self.cumulative[k], leaf + u[:, 1 + j], side="left")
            codes = self.codes[k][np.minimum(position, self.codes[k].size - 1)]
            z[:, j] = encoding.category_normals(j)[codes]
        return z

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Dimension lists as metadata, the leaf tables as arrays."""
        arrays = {"weight": self.weight, "mean": self.mean, "sd": self.sd, "low": self.low, "high": self.high}
        for k in range(len(self.categorical)):
            arrays[f"codes{k}"] = self.codes[k]
            arrays[f"cumulative{k}"] = self.cumulative[k]
        return {"continuous": self.continuous, "categorical": self.categorical}, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> LeafMixture:
        """Inverse of :meth:`to_state`."""
        k = range(len(meta["categorical"]))
        return cls(meta["continuous"], meta["categorical"], arrays["weight"], arrays["mean"], arrays["sd"],
                   arrays["low"], arrays["high"], [arrays[f"codes{i}"] for i in k],
                   [arrays[f"cumulative{i}"] for i in k])


def truncated_normal(u: np.ndarray, mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray
                     ) -> np.ndarray:
    """Normals N(mean, sd) truncated to [low, high] by inversion of ``u``, elementwise; sd 0 gives the mean."""
    spread = sd > 0
    scale = np.where(spread, sd, 1.0)
    a, b = (low - mean) / scale, (high - mean) / scale
    # Invert in whichever tail keeps precision: the upper tail through the survival function.
    upper = a > 0
    sa, sb = ndtr(-a), ndtr(-b)
    ca, cb = ndtr(a), ndtr(b)
    e = np.where(upper, -ndtri(np.clip(sa - u * (sa - sb), 1e-300, 1.0)),
                 ndtri(np.clip(ca + u * (cb - ca), 1e-300, 1.0)))
    e = np.where(np.isfinite(e), e, np.where(upper, a, b))
    return np.where(spread, np.clip(mean + sd * e, low, high), mean)


def summarize_leaves(forest: RandomForestClassifier, features: np.ndarray, categorical: list[int], *,
                     min_leaf: int) -> LeafMixture:
    """FORDE: the leaf mixture of ``forest`` over all training rows (leaves under ``min_leaf`` rows dropped)."""
    n, d = features.shape
    continuous = [j for j in range(d) if j not in categorical]
    nodes = forest.apply(features)
    offsets = np.concatenate([[0], np.cumsum([t.tree_.node_count for t in forest.estimators_])])
    keys = (nodes + offsets[:-1][None, :]).ravel()
    leaves, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    keep = counts >= min_leaf
    index = np.cumsum(keep) - 1
    row_leaf = np.where(keep[inverse], index[inverse], -1)
    used = row_leaf >= 0
    row_leaf, counts = row_leaf[used], counts[keep]
    n_leaves = int(keep.sum())
    repeated = np.repeat(np.arange(n), nodes.shape[1])[used]

    cols = np.array(continuous, dtype=np.int64)
    values = features[repeated][:, cols] if continuous else np.zeros((repeated.size, 0))
    sums = np.stack([np.bincount(row_leaf, weights=values[:, k], minlength=n_leaves) for k in range(cols.size)], axis=1) \
        if continuous else np.zeros((n_leaves, 0))
    mean = sums / counts[:, None]
    centred = values - mean[row_leaf]
    squares = np.stack([np.bincount(row_leaf, weights=centred[:, k] ** 2, minlength=n_leaves) for k in range(cols.size)],
                       axis=1) if continuous else np.zeros((n_leaves, 0))
    sd = np.sqrt(squares / counts[:, None])
    sd[sd < 1e-9] = 0.0

    low = np.empty((n_leaves, cols.size))
    high = np.empty((n_leaves, cols.size))
    tree_of = np.searchsorted(offsets, leaves[keep], side="right") - 1
    for t, tree in enumerate(forest.estimators_):
        mine = np.flatnonzero(tree_of == t)
        box_low, box_high = _node_bounds(tree, d)
        local = leaves[keep][mine] - offsets[t]
        low[mine] = box_low[local][:, cols]
        high[mine] = box_high[local][:, cols]
    if continuous:
        seen_low, seen_high = features[:, cols].min(axis=0), features[:, cols].max(axis=0)
        low = np.clip(low, seen_low, seen_high)
        high = np.clip(high, seen_low, seen_high)

    codes, cumulative = [], []
    for j in categorical:
        k = int(features[:, j].max()) + 1
        pairs, pair_counts = np.unique(row_leaf * k + features[repeated, j].astype(np.int64), return_counts=True)
        leaf_of = pairs // k
        probability = pair_counts / counts[leaf_of]
        starts = np.r_[0, np.flatnonzero(np.diff(leaf_of)) + 1]
        running = np.cumsum(probability)
        within = running - np.repeat(np.r_[0.0, running][starts], np.diff(np.r_[starts, leaf_of.size]))
        last = np.r_[starts[1:] - 1, leaf_of.size - 1]
        within[last] = 1.0
        codes.append((pairs % k).astype(np.int32))
        cumulative.append(leaf_of + within)
    return LeafMixture(continuous, categorical, counts / counts.sum(), mean, sd, low, high, codes, cumulative)
