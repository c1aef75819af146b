"""The forest parts of the adversarial random forest: adversarial training, leaf summaries, leaf sampling.

Features are latent columns: standard-normal scores for continuous dimensions and category indices for
categorical ones. A :class:`LeafMixture` is the fitted density: one weighted component per kept leaf,
each a product of one-dimensional distributions, stored as flat arrays.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr, ndtri

from genesis_sql.models._kernels import dense_category_codes, truncated_normal_draws
from genesis_sql.models._random import NORMAL_TABLE
from genesis_sql.models._search import GuideTable

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier

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
                       ) -> tuple[list[Any], float]:
    """The trees of the last adversarial round that improved, and its out-of-bag accuracy.

    Rounds stop when the accuracy is at most 0.5 + ``delta``, stops falling, or after ``max_iterations``.
    """
    # Imported here: scikit-learn takes about a second to import, and only fitting needs it.
    from sklearn.ensemble import RandomForestClassifier

    if features.shape[1] == 0:
        return [], 0.5
    if features.shape[0] > max_rows:
        features = features[np.sort(rng.choice(features.shape[0], max_rows, replace=False))]
    n = features.shape[0]
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    fake = _independent_sample(features, rng)
    best = None
    rounds = max(max_iterations, 1)
    for round_ in range(rounds):
        forest = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=min_leaf, max_features="sqrt",
                                        oob_score=True, random_state=int(rng.integers(2**31)), n_jobs=-1)
        with warnings.catch_warnings():  # small tables leave a few rows without out-of-bag trees
            warnings.simplefilter("ignore", UserWarning)
            forest.fit(np.vstack([features, fake]), labels)
        accuracy = float(forest.oob_score_)
        if best is not None and accuracy >= best[1]:
            break
        best = (forest, accuracy)
        if accuracy <= 0.5 + delta or round_ == rounds - 1:
            break
        fake = _leaf_sample(forest, features, rng)
    return list(best[0].estimators_), best[1]


class LeafMixture:
    """A weighted mixture of leaves, each a product of one-dimensional distributions.

    Continuous dimensions are normals truncated to the range of the leaf's rows; a leaf whose rows share
    one value keeps that value. Categorical dimensions are the leaf's category frequencies,
    stored sparsely: entries sorted by leaf, with cumulative probabilities offset by the leaf number.
    Sampling tables derived from these (guide tables, each truncated normal's inversion) are built on
    first use and cached, never stored.
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
        return pick_by_weight(self._leaf_guide, u)

    @cached_property
    def _leaf_guide(self) -> GuideTable:
        """Guide table of the cumulative leaf weights."""
        return GuideTable([self.cumulative_weight], side="right")

    @cached_property
    def _category_samplers(self) -> list[DenseCategories | SparseCategories]:
        """Each categorical dimension's sampler: one row per leaf where it has few categories."""
        samplers: list[DenseCategories | SparseCategories] = []
        for codes, cumulative in zip(self.codes, self.cumulative):
            if codes.size and codes.max() < DENSE_CATEGORIES:
                leaf_of, probability = _leaf_shares(cumulative)
                samplers.append(DenseCategories.of(leaf_of, codes, probability, self.leaves))
            else:
                samplers.append(SparseCategories(codes, cumulative))
        return samplers

    @cached_property
    def _inversions(self) -> np.ndarray:
        """Each leaf's truncated normals ready for inversion, packed (leaves x 6 x continuous dimensions) so
        that a row's leaf is one gather."""
        return TruncatedNormals.of(self.mean, self.sd, self.low, self.high).packed()

    def sample(self, u: np.ndarray, encoding: TableEncoding, *, leaf: np.ndarray | None = None) -> np.ndarray:
        """Latent scores (rows x dims) from uniforms (rows x 1 + dims): the first picks the leaf (unless given)."""
        leaf = self.pick_leaves(u[:, 0]) if leaf is None else leaf
        z = np.empty((u.shape[0], len(self.continuous) + len(self.categorical)))
        if self.continuous:
            z[:, self.continuous] = self.sample_continuous(u, leaf)
        for sampler, j in zip(self._category_samplers, self.categorical):
            z[:, j] = encoding.category_normals(j)[sampler.pick(leaf, u[:, 1 + j])]
        return z

    def sample_continuous(self, u: np.ndarray, leaf: np.ndarray) -> np.ndarray:
        """Scores of the continuous dimensions only (rows x continuous), as :meth:`sample` draws them."""
        return TruncatedNormals.draw(self._inversions, leaf, u, 1 + np.array(self.continuous, dtype=np.intp))

    def interval_mass(self, k: int, intervals: np.ndarray) -> np.ndarray:
        """Per leaf, the share of continuous dimension ``self.continuous[k]`` inside the union of ``intervals``."""
        mean, sd = self.mean[:, k].astype(float), self.sd[:, k].astype(float)
        low, high = self.low[:, k].astype(float), self.high[:, k].astype(float)
        masses = _piece_masses(mean, sd, low, high, intervals)
        return masses.sum(axis=1) / np.maximum(_normal_mass(mean, sd, low, high), 1e-300)

    def restricted(self, k: int, allowed: np.ndarray) -> tuple[SparseCategories, np.ndarray]:
        """Categorical dimension ``self.categorical[k]`` restricted to ``allowed`` codes (a boolean mask):
        its sampler, and the share of each leaf that is allowed."""
        codes = self.codes[k]
        leaf_of, probability = _leaf_shares(self.cumulative[k])
        keep = allowed[codes]
        share = np.bincount(leaf_of[keep], weights=probability[keep], minlength=self.leaves)
        if not keep.any():
            return SparseCategories(codes[keep], np.zeros(0)), share
        kept_leaf = leaf_of[keep]
        kept_shares = _offset_cumulative(kept_leaf, probability[keep] / share[kept_leaf])
        return SparseCategories(codes[keep], kept_shares), share

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


def _offset_cumulative(leaf_of: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Each entry's leaf number plus the cumulative probability within its leaf (entries sorted by leaf);
    every leaf's last entry closes at exactly its number + 1."""
    first = np.flatnonzero(np.r_[True, np.diff(leaf_of) > 0])
    running = np.cumsum(probability)
    within = running - np.repeat(np.r_[0.0, running][first], np.diff(np.r_[first, leaf_of.size]))
    within[np.r_[first[1:] - 1, leaf_of.size - 1]] = 1.0
    return leaf_of + within


def pick_by_weight(guide: GuideTable, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF choice of a component for each uniform, from the guide table of cumulative weights
    (components of zero weight are never chosen)."""
    cumulative = guide.arrays[0]
    return np.minimum(guide.search((u * cumulative[-1])[None])[0], cumulative.size - 1)


# Categorical dimensions with at most this many categories are sampled from one row of cumulative
# shares per leaf (a cache line for 16 single-precision shares).
DENSE_CATEGORIES = 16


class SparseCategories:
    """A categorical dimension's leaf distributions in the stored sparse form, sampled by inversion: entries
    sorted by leaf, each the leaf's number plus the cumulative share within the leaf (its last entry
    exactly the number + 1), so that a row's code is the first entry at or above its leaf + its uniform.

    Args:
        codes: each entry's category code.
        cumulative: each entry's offset cumulative share.
    """

    def __init__(self, codes: np.ndarray, cumulative: np.ndarray) -> None:
        self.codes = codes
        self.guide = GuideTable([cumulative], side="left")

    def pick(self, leaf: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The code of each row in leaf ``leaf`` for uniforms ``u``."""
        return self.codes[np.minimum(self.guide.search((leaf + u)[None])[0], self.codes.size - 1)]


class DenseCategories:
    """A categorical dimension with few categories, sampled by inversion from one row of cumulative shares
    per leaf (in code order): one gather of a short row, where the sparse form's lookup touches three
    scattered tables.

    Args:
        cumulative: leaves x categories, the share of codes up to each, the last exactly 1.
    """

    def __init__(self, cumulative: np.ndarray) -> None:
        self.cumulative = cumulative

    @classmethod
    def of(cls, leaf_of: np.ndarray, codes: np.ndarray, probability: np.ndarray, leaves: int) -> DenseCategories:
        """From sparse entries: each one's leaf, code and share within its leaf."""
        shares = np.zeros((leaves, int(codes.max()) + 1))
        shares[leaf_of, codes] = probability
        cumulative = np.cumsum(shares, axis=1)
        cumulative[:, -1] = 1.0
        return cls(cumulative.astype(np.float32))

    def pick(self, leaf: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The code of each row in leaf ``leaf`` for uniforms ``u``: how many cumulative shares lie below it
        (compared in the shares' single precision)."""
        code = np.empty(leaf.size, dtype=np.intp)
        dense_category_codes(self.cumulative, leaf, u, code)
        return code


def _leaf_shares(cumulative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sparse entry's leaf and share within its leaf, from the offset cumulative shares."""
    # Entries hold leaf + cumulative share within the leaf, the leaf's last exactly leaf + 1.
    leaf_of = np.floor(np.nextafter(cumulative, -np.inf)).astype(np.int64)
    within = cumulative - leaf_of
    starts = np.r_[True, np.diff(leaf_of) > 0]
    return leaf_of, np.where(starts, within, np.diff(np.r_[0.0, within]))


def _normal_mass(mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """P(low <= X <= high) for X ~ N(mean, sd) (a point mass when sd is 0)."""
    spread = sd > 0
    scale = np.where(spread, sd, 1.0)
    mass = ndtr((high - mean) / scale) - ndtr((low - mean) / scale)
    return np.where(spread, mass, ((low <= mean) & (mean <= high)).astype(float))


def _piece_masses(mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray, intervals: np.ndarray
                  ) -> np.ndarray:
    """(leaves or rows x intervals): the normal's mass in each interval intersected with [low, high]."""
    lo = np.maximum(low[:, None], intervals[None, :, 0])
    hi = np.minimum(high[:, None], intervals[None, :, 1])
    mass = _normal_mass(mean[:, None], sd[:, None], lo, hi)
    return np.where(hi >= lo, mass, 0.0)


def truncated_normal_in(u: np.ndarray, mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray,
                        intervals: np.ndarray) -> np.ndarray:
    """Like :func:`truncated_normal`, further restricted to the union of ``intervals`` (k x 2)."""
    masses = _piece_masses(mean, sd, low, high, intervals)
    cumulative = np.cumsum(masses, axis=1)
    target = u * cumulative[:, -1]
    piece = np.minimum((cumulative < target[:, None]).sum(axis=1), intervals.shape[0] - 1)
    rows = np.arange(u.size)
    before = np.where(piece > 0, cumulative[rows, np.maximum(piece - 1, 0)], 0.0)
    inner = np.clip((target - before) / np.where(masses[rows, piece] > 0, masses[rows, piece], 1.0), 0.0, 1.0)
    lo = np.maximum(low, intervals[piece, 0])
    hi = np.minimum(high, intervals[piece, 1])
    return truncated_normal(inner, mean, sd, lo, hi)


def truncated_normal(u: np.ndarray, mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray
                     ) -> np.ndarray:
    """Normals N(mean, sd) truncated to [low, high] by inversion of ``u``, elementwise; sd 0 gives the mean."""
    return TruncatedNormals.of(mean, sd, low, high).invert(u)


class TruncatedNormals:
    """Normals truncated to ranges, as what inverting a uniform needs: the cumulative probability where
    each range starts and its (signed) width, so that a draw costs one inverse normal CDF.

    The inversion runs in whichever tail keeps precision: through the survival function when the range
    lies above the mean (there the CDF rounds to 1). Its inverse normal CDF is the table-based one of
    :func:`genesis_sql.models._random.standard_normals` (within 2e-5 in the body, exact in the tails), and
    draws are clipped to the range, so they always lie in it. A normal of spread 0 keeps its mean.

    Args:
        mean: the normals' means.
        start, width: the probability ``p = start + u * width`` whose normal quantile ``e`` a uniform ``u``
            gives; the draw is ``mean + scale * e``.
        scale: the spread, negative where inverting through the survival function.
        floor, ceiling: the range that bounds the draws (the mean itself for spread 0).
    """

    def __init__(self, mean: np.ndarray, start: np.ndarray, width: np.ndarray, scale: np.ndarray,
                 floor: np.ndarray, ceiling: np.ndarray) -> None:
        self.mean, self.start, self.width, self.scale = mean, start, width, scale
        self.floor, self.ceiling = floor, ceiling

    @classmethod
    def of(cls, mean: np.ndarray, sd: np.ndarray, low: np.ndarray, high: np.ndarray) -> TruncatedNormals:
        """N(mean, sd) truncated to [low, high], elementwise (any shape)."""
        mean, sd = np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64)
        low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        spread = sd > 0
        unit = np.where(spread, sd, 1.0)
        a, b = (low - mean) / unit, (high - mean) / unit
        upper = a > 0
        # Below the mean invert the CDF from ndtr(a) to ndtr(b); above it the survival function from
        # ndtr(-a) down to ndtr(-b), whose quantile is the draw's negative.
        start = np.where(upper, ndtr(-a), ndtr(a))
        width = np.where(upper, ndtr(-b), ndtr(b)) - start
        return cls(mean, np.where(spread, start, 0.5), np.where(spread, width, 0.0),
                   np.where(upper, -sd, sd) * spread, np.where(spread, low, mean), np.where(spread, high, mean))

    def packed(self) -> np.ndarray:
        """The parameters stacked on a new second axis, in single precision (the leaf summaries' own, and
        ample for the inversion's probabilities): rows of one array gather much faster than six arrays."""
        return np.stack([self.mean, self.start, self.width, self.scale, self.floor, self.ceiling],
                        axis=1).astype(np.float32)

    def invert(self, u: np.ndarray) -> np.ndarray:
        """The draws for uniforms ``u`` (same shape, or one that broadcasts with the parameters')."""
        u = np.asarray(u, dtype=np.float64)
        parts = (self.mean, self.start, self.width, self.scale, self.floor, self.ceiling)
        shape = np.broadcast_shapes(u.shape, *(np.shape(part) for part in parts))
        params = np.stack([np.broadcast_to(part, shape).ravel() for part in parts], axis=1)[:, :, None]
        which = np.arange(params.shape[0])
        return self.draw(params, which, np.broadcast_to(u, shape).reshape(-1, 1), np.zeros(1, dtype=np.intp)
                         ).reshape(shape)

    @staticmethod
    def draw(params: np.ndarray, which: np.ndarray, u: np.ndarray, u_columns: np.ndarray) -> np.ndarray:
        """Draws (rows of ``which`` x ``u_columns``) of the normals in ``params`` (stacked as :meth:`packed`
        stacks them), normal ``[which[i], :, c]`` by uniform ``u[i, u_columns[c]]``; one compiled pass."""
        u = np.ascontiguousarray(u, dtype=np.float64)
        out = np.empty((which.size, u_columns.size))
        tails = np.empty(out.size, dtype=np.int64)
        tail_p = np.empty(out.size)
        count = truncated_normal_draws(params, np.ascontiguousarray(which), u, u_columns, *NORMAL_TABLE, out,
                                       tails, tail_p)
        if count:  # the tails, beyond the table: the exact inverse CDF
            row, column = np.divmod(tails[:count], u_columns.size)
            mean, _, _, scale, floor, ceiling = np.moveaxis(params[which[row], :, column], 1, 0)
            e = ndtri(tail_p[:count])
            e *= scale
            e += mean
            np.maximum(e, floor, out=e)
            out[row, column] = np.minimum(e, ceiling, out=e)
        return out


# Leaf summaries keep at most this many values per statistic (leaves x continuous dimensions): trees
# beyond it are left out of the mixture, which bounds the stored model and the memory of sampling.
MAX_LEAF_VALUES = 2_000_000


def _tree_summary(tree: Any, features: np.ndarray, single: np.ndarray, continuous: list[int], categorical: list[int],
                  min_leaf: int) -> dict[str, Any] | None:
    """One tree's leaves with at least ``min_leaf`` rows: counts, and per leaf the mean, spread and range of
    each continuous dimension and the category counts of each categorical one (None when no leaf is kept).
    ``single`` is ``features`` in single precision, as the tree reads them."""
    node = tree.apply(single)
    order = np.argsort(node, kind="stable")
    node = node[order]
    starts = np.flatnonzero(np.r_[True, np.diff(node) > 0])
    counts = np.diff(np.r_[starts, node.size])
    kept = counts >= min_leaf
    if not kept.any():
        return None
    leaf = np.repeat(np.cumsum(kept) - 1, counts)
    rows = order[np.repeat(kept, counts)]
    leaf = leaf[np.repeat(kept, counts)]
    starts = np.flatnonzero(np.r_[True, np.diff(leaf) > 0])
    counts = counts[kept].astype(np.float64)
    values = features[rows][:, continuous]
    mean = np.add.reduceat(values, starts, axis=0) / counts[:, None]
    squares = np.add.reduceat((values - mean[leaf]) ** 2, starts, axis=0)
    categories = []
    for j in categorical:
        k = int(features[:, j].max()) + 1
        pairs, pair_counts = np.unique(leaf * k + features[rows, j].astype(np.int64), return_counts=True)
        categories.append((pairs // k, (pairs % k).astype(np.int32), pair_counts))
    return {"counts": counts, "mean": mean, "sd": np.sqrt(squares / counts[:, None]),
            "low": np.minimum.reduceat(values, starts, axis=0), "high": np.maximum.reduceat(values, starts, axis=0),
            "categories": categories}


def summarize_leaves(trees: list[Any], features: np.ndarray, categorical: list[int], *, min_leaf: int
                     ) -> LeafMixture:
    """FORDE: the leaf mixture of ``trees`` over ``features`` (leaves under ``min_leaf`` rows dropped).

    With no tree, or no leaf that large (very few rows), all rows form one leaf.
    """
    continuous = [j for j in range(features.shape[1]) if j not in categorical]
    single = features.astype(np.float32)
    summaries: list[dict[str, Any]] = []
    leaves = 0
    # Trees are summarised on threads: the tree walk and numpy's sorts and reductions release the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(len(trees), os.cpu_count() or 1))) as pool:
        computed = list(pool.map(lambda tree: _tree_summary(tree, features, single, continuous, categorical,
                                                            min_leaf), trees))
    for summary in computed:
        if summary is None:
            continue
        if summaries and (leaves + summary["counts"].size) * max(len(continuous), 1) > MAX_LEAF_VALUES:
            break
        summaries.append(summary)
        leaves += summary["counts"].size
    if not summaries:
        summaries = [_tree_summary(_Root(), features, single, continuous, categorical, 1)]
    offsets = np.cumsum([0] + [s["counts"].size for s in summaries])
    counts = np.concatenate([s["counts"] for s in summaries])
    stacked = {name: np.vstack([s[name] for s in summaries]) for name in ("mean", "sd", "low", "high")}
    stacked["sd"][stacked["sd"] < 1e-9] = 0.0
    codes, cumulative = [], []
    for k in range(len(categorical)):
        leaf_of = np.concatenate([s["categories"][k][0] + offset for s, offset in zip(summaries, offsets)])
        pair_counts = np.concatenate([s["categories"][k][2] for s in summaries])
        codes.append(np.concatenate([s["categories"][k][1] for s in summaries]))
        cumulative.append(_offset_cumulative(leaf_of, pair_counts / counts[leaf_of]))
    # Leaf summaries are stored in single precision: half the size, ample for scores.
    return LeafMixture(continuous, categorical, counts / counts.sum(),
                       *(stacked[name].astype(np.float32) for name in ("mean", "sd", "low", "high")), codes,
                       cumulative)


class _Root:
    """A tree of one leaf, for data too small to split."""

    @staticmethod
    def apply(features: np.ndarray) -> np.ndarray:
        return np.zeros(features.shape[0], dtype=np.int64)
