"""Conditioning a Gaussian copula in its latent space.

Atoms of a condition become, per latent dimension, a union of intervals of the standard-normal score
(numeric ranges through the marginal's CDF, categories and discrete values through their intervals,
NULL through its mass at the bottom). Rows are then proposed with the GHK construction: with the
constrained dimensions first in the Cholesky order, each constrained score is drawn from its exact
conditional normal truncated to the allowed set, and the proposal is accepted with probability equal
to the product of the later dimensions' allowed masses. Accepted rows follow the model's conditional
distribution exactly; a rare condition on one column costs no more than a common one.

A linear condition between two numeric columns (``x > y + 0.46``, genesis_sql.models._pair) is met the
same way: its driver comes first, drawn from cells of its score weighted by the target's allowed mass
there (:class:`DriverCells`), then the target inside the scores the driver leaves it; the weight corrects
the cells' bound, so a condition of 1% between two columns costs little more than one of 50%.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy.special import ndtr, ndtri

from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.models.feasibility import _category_matches, _to_number, numeric_interval
from genesis_sql.models._columns import CategoricalCodec, Codec, NumericCodec
from genesis_sql.models._pair import PairScores, pair_scores
from genesis_sql.models._random import DIMS_PER_ATTEMPT, row_states, standard_normals, uniforms
from genesis_sql.models._rowwise import rowwise_matmul

Intervals = np.ndarray  # shape (k, 2): allowed [low, high] score intervals, sorted and disjoint

# Scores are widened by this much so that rounding and grid reading never exclude an allowed value;
# the condition itself is checked on every generated row, so widening costs only a few rejections.
_SLACK = 1e-3
_INSIDE = 1e-9


def _merge(intervals: list[tuple[float, float]]) -> Intervals:
    merged: list[list[float]] = []
    for low, high in sorted(intervals):
        if high < low:
            continue
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return np.array(merged, dtype=np.float64).reshape(-1, 2)


def _single_column_expressions(conditions: ConditionSet, column: str, all_columns: list[str]) -> list[str]:
    """Residual conjuncts that mention only ``column`` (they can be evaluated on its values)."""
    quoted = {c: f'"{c}"' for c in all_columns}
    return [e for e in conditions.expressions
            if quoted[column] in e and not any(q in e for c, q in quoted.items() if c != column)]


def _allowed_values(values: list, atoms: list[Condition], expressions: list[str], column: str) -> np.ndarray:
    """Which of ``values`` (NULL included) every atom and single-column expression allows."""
    allowed = np.array([all(_category_matches(a, v) for a in atoms) for v in values], dtype=bool)
    if expressions and allowed.any():
        con = duckdb.connect()
        try:
            con.register("genesis_values", pa.table({column: pa.array(values)}))
            where = " AND ".join(f"({e})" for e in expressions)
            hits = con.sql(f"SELECT coalesce(({where}), false) FROM genesis_values").fetchall()
        finally:
            con.close()
        allowed &= np.array([bool(h[0]) for h in hits])
    return allowed


def _interval_score_bounds(codec: NumericCodec, low: float, high: float) -> tuple[float, float]:
    """Uniform bounds (within the non-NULL part) of the values in [low, high] under a continuous marginal."""
    values, cdf = codec.values_, codec.cdf_

    def lower(x: float) -> float:
        i = int(np.searchsorted(values, x, side="left"))
        if i == 0:
            return 0.0
        if i >= values.size:
            return 1.0
        span = values[i] - values[i - 1]
        return float(cdf[i - 1] + (cdf[i] - cdf[i - 1]) * ((x - values[i - 1]) / span if span else 1.0))

    def upper(x: float) -> float:
        j = int(np.searchsorted(values, x, side="right"))
        if j >= values.size:
            return 1.0
        if j == 0:
            return 0.0
        span = values[j] - values[j - 1]
        return float(cdf[j - 1] + (cdf[j] - cdf[j - 1]) * ((x - values[j - 1]) / span if span else 0.0))

    return lower(low), upper(high)


def _numeric_intervals(codec: NumericCodec, atoms: list[Condition]) -> Intervals:
    q = codec.null_fraction_
    null_z = ndtri(q) if q > 0 else -math.inf
    # != and NOT IN leave the range as it is; the exclusion itself is checked on every row.
    low, high, allow_null, allow_value = numeric_interval(atoms, codec)
    parts: list[tuple[float, float]] = []
    if allow_null and q > 0:
        parts.append((-math.inf, null_z + _SLACK))
    if allow_value and codec.values_.size and low <= high:
        half = (codec.step_ / 2 if codec.step_ else 0.5 * 10.0 ** -codec.decimals_ if codec.decimals_ is not None
                else 0.0)
        u_low, u_high = _interval_score_bounds(codec, low - half, high + half)
        if u_high >= u_low:
            z_low = ndtri(min(max(q + (1 - q) * u_low, 0.0), 1.0)) if u_low > 0 else max(null_z, -math.inf)
            z_high = ndtri(min(max(q + (1 - q) * u_high, 0.0), 1.0)) if u_high < 1 else math.inf
            parts.append((z_low - _SLACK, z_high + _SLACK))
    return _merge(parts)


def _in_numeric_units(atom: Condition, codec: NumericCodec) -> Condition:
    """The atom with its values in the codec's units (dates as days, timestamps as microseconds)."""
    def convert(value):
        if isinstance(value, tuple):
            return tuple(convert(v) for v in value)
        if value is None or isinstance(value, (bool, str)):
            return value
        return _to_number(value, codec)
    return Condition(atom.column, atom.operator, convert(atom.value))


def _coded_intervals(codec: Codec, atoms: list[Condition], expressions: list[str]) -> Intervals:
    """Allowed score intervals of a column coded by intervals (categories, or few distinct numbers)."""
    if isinstance(codec, CategoricalCodec):
        values = list(codec.categories_)
        upper = ndtri(np.clip(codec.bounds_, 0, 1))
        lower = ndtri(np.clip(codec.lower_, 0, 1))
    else:
        upper_z, code_values = codec._normal_lookup
        values = [None if np.isnan(v) else float(v) for v in code_values]
        upper = upper_z
        lower = np.concatenate([[-math.inf], upper_z[:-1]])
        atoms = [_in_numeric_units(a, codec) for a in atoms]
    allowed = _allowed_values(values, atoms, expressions, codec.spec.name)
    # Exact bounds, pulled in by a hair: every score drawn inside decodes to an allowed value, so these
    # conjuncts need no check on the generated rows.
    return _merge([(lower[i] + _INSIDE, upper[i] - _INSIDE) for i in np.flatnonzero(allowed)])


@dataclass(frozen=True)
class LatentRegion:
    """The allowed score intervals of the constrained latent dimensions, rarest first.

    ``residual`` holds the conjuncts the region does not enforce exactly; only they are checked on
    generated rows.
    """

    dims: tuple[int, ...]
    intervals: tuple[Intervals, ...]
    order: np.ndarray  # permutation of latent dims: constrained first
    cholesky: np.ndarray  # Cholesky factor of the permuted correlation
    residual: ConditionSet
    # A linear condition between two columns: then dims[0] is its driver and dims[1] its target.
    pair: PairScores | None = None

    @property
    def is_empty(self) -> bool:
        """Whether some constrained dimension allows nothing."""
        return any(iv.shape[0] == 0 for iv in self.intervals)

    @functools.cached_property
    def cells(self) -> DriverCells | None:
        """The pair's driver cells (None without a pair)."""
        return DriverCells.of(self) if self.pair is not None else None


def compile_region(codecs: list[Codec], latent: list[int], correlation: np.ndarray,
                   conditions: ConditionSet) -> LatentRegion:
    """The latent region of the condition's atoms (and single-column expressions on coded columns)."""
    names = [c.spec.name for c in codecs]
    pair = pair_scores(conditions, {codecs[i].spec.name: codecs[i] for i in latent})
    dims, intervals, masses = [], [], []
    exact_atoms: set[Condition] = set()
    exact_expressions: set[str] = set()
    for j, i in enumerate(latent):
        codec = codecs[i]
        name = codec.spec.name
        atoms = [a for a in conditions.conditions if a.column == name]
        paired = pair is not None and name in (pair.pair.target, pair.pair.driver)
        if isinstance(codec, NumericCodec) and not codec.discrete_ and codec.values_.size:
            if not atoms and not paired:
                continue
            allowed = _numeric_intervals(codec, atoms) if atoms else _merge([(-math.inf, math.inf)])
        elif isinstance(codec, (NumericCodec, CategoricalCodec)):
            # Expressions are evaluated on the column's values, which for numbers coded in days or
            # microseconds would not mean what the SQL says; those stay checks on generated rows.
            evaluable = isinstance(codec, CategoricalCodec) or codec.spec.kind != "datetime"
            expressions = _single_column_expressions(conditions, name, names) if evaluable else []
            if not atoms and not expressions and not paired:
                continue
            allowed = (_coded_intervals(codec, atoms, expressions) if atoms or expressions
                       else _merge([(-math.inf, math.inf)]))
            exact_atoms.update(atoms)
            exact_expressions.update(expressions)
        else:
            continue
        dims.append(j)
        intervals.append(allowed)
        masses.append(float(np.sum(ndtr(allowed[:, 1]) - ndtr(allowed[:, 0]))) if allowed.size else 0.0)
    rank = np.argsort(masses, kind="stable")
    if pair is not None:  # the driver first, its target next, then the rest rarest first
        first = [latent.index(names.index(c)) for c in (pair.pair.driver, pair.pair.target)]
        rank = sorted(rank, key=lambda r: first.index(dims[r]) if dims[r] in first else len(first))
    dims = [dims[r] for r in rank]
    intervals = [intervals[r] for r in rank]
    rest = [j for j in range(len(latent)) if j not in dims]
    order = np.array(dims + rest, dtype=np.int64)
    permuted = correlation[np.ix_(order, order)]
    residual = ConditionSet(tuple(a for a in conditions.conditions if a not in exact_atoms),
                            tuple(e for e in conditions.expressions if e not in exact_expressions))
    return LatentRegion(tuple(dims), tuple(intervals), order, np.linalg.cholesky(permuted), residual, pair)


def _truncated(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Standard normals truncated to [low, high] per row, by inversion (stable in both tails).

    Intervals above zero are mirrored below it, where the normal CDF keeps its precision.
    """
    mirror = low > 0
    a = np.where(mirror, -high, low)
    b = np.where(mirror, -low, high)
    c_a, c_b = ndtr(a), ndtr(b)
    inner = ndtri(c_a + np.where(mirror, 1.0 - u, u) * (c_b - c_a))
    return np.clip(np.where(mirror, -inner, inner), low, high)


def _masses(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Normal probability of [low, high], elementwise, computed on the side of zero where it is precise."""
    mirror = low > 0
    return np.maximum(np.abs(ndtr(np.where(mirror, -low, high)) - ndtr(np.where(mirror, -high, low))), 0.0)


def _union_sample(u: np.ndarray, mean: np.ndarray, scale: float, low: np.ndarray, high: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Draw e with mean + scale * e in the union of the intervals [low, high] (k of them, the same for every
    row, or rows x k); returns (e, allowed mass per row). Rows with no allowed mass get e = 0."""
    low = (low - mean[:, None]) / scale
    high = (high - mean[:, None]) / scale
    if low.shape[1] == 1:
        mass = np.where(high[:, 0] >= low[:, 0], _masses(low[:, 0], high[:, 0]), 0.0)
        e = _truncated(u, low[:, 0], high[:, 0])
        return np.where(mass > 0, e, 0.0), mass
    mass = np.where(high >= low, _masses(low, high), 0.0)
    total = mass.sum(axis=1)
    cumulative = np.cumsum(mass, axis=1)
    target = u * total
    pick = np.minimum((cumulative < target[:, None]).sum(axis=1), low.shape[1] - 1)
    rows = np.arange(u.size)
    before = np.where(pick > 0, cumulative[rows, np.maximum(pick - 1, 0)], 0.0)
    inner = np.clip((target - before) / np.where(mass[rows, pick] > 0, mass[rows, pick], 1.0), 0.0, 1.0)
    e = _truncated(inner, low[rows, pick], high[rows, pick])
    return np.where(total > 0, e, 0.0), total


# The driver's cells: this many per unit of score, over the scores a normal reaches.
_CELLS_PER_UNIT = 128
_CELL_REACH = 8.5


@dataclass(frozen=True)
class DriverCells:
    """The allowed scores of a pair's driver cut into small cells, each weighted by its normal mass times a
    bound on the target's allowed mass given a driver score in it: drawing the driver by these weights
    follows the condition's driver marginal closely, and the GHK weight (the target's allowed mass over the
    cell's bound, at most 1) corrects what is left.
    """

    low: np.ndarray
    high: np.ndarray
    bound: np.ndarray
    cumulative: np.ndarray  # of the cells' normal mass times their bound

    @property
    def total(self) -> float:
        """The cells' weight in all: the proposal's normalising mass."""
        return float(self.cumulative[-1]) if self.cumulative.size else 0.0

    @classmethod
    def of(cls, region: LatentRegion) -> DriverCells:
        """The cells of a region with a pair (driver dims[0], target dims[1])."""
        grid = np.linspace(-_CELL_REACH, _CELL_REACH, int(2 * _CELL_REACH * _CELLS_PER_UNIT) + 1)
        edges = [np.unique(np.r_[lo, grid[(grid > lo) & (grid < hi)], hi]) for lo, hi in region.intervals[0]]
        low = np.concatenate([e[:-1] for e in edges])
        high = np.concatenate([e[1:] for e in edges])
        bound = _target_mass_bound(region, np.clip(low, -_CELL_REACH - 1, None), np.clip(high, None, _CELL_REACH + 1))
        return cls(low, high, bound, np.cumsum(_masses(low, high) * bound))

    def draw(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Driver scores for uniforms ``u``, and their cells' bounds."""
        target = u * self.total
        cell = np.minimum(np.searchsorted(self.cumulative, target, side="right"), self.cumulative.size - 1)
        before = np.where(cell > 0, self.cumulative[np.maximum(cell - 1, 0)], 0.0)
        width = self.cumulative[cell] - before
        inner = np.clip((target - before) / np.where(width > 0, width, 1.0), 0.0, 1.0)
        return _truncated(inner, self.low[cell], self.high[cell]), self.bound[cell]


def _target_interval(region: LatentRegion, driver: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The target's allowed score intervals (rows x k) given driver scores: its own intervals cut to the
    pair's bounds."""
    low, high = region.pair.target_scores(driver)
    own = region.intervals[1]
    return np.maximum(own[:, 0][None, :], low[:, None]), np.minimum(own[:, 1][None, :], high[:, None])


def _target_mass_bound(region: LatentRegion, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """For driver scores in [low, high], a bound on the target's allowed mass given the driver.

    The pair's bounds on the target move monotonically with the driver, so over a cell the target's allowed
    set lies in the hull of its sets at the cell's ends; the target's conditional mean moves over an
    interval too, and a normal's mass in a fixed interval is largest when its mean is nearest the middle.
    """
    L = region.cholesky
    at_low, at_high = _target_interval(region, low), _target_interval(region, high)
    start, end = np.minimum(at_low[0], at_high[0]), np.maximum(at_low[1], at_high[1])
    means = np.sort(np.stack([low * L[1, 0], high * L[1, 0]]), axis=0)
    with np.errstate(invalid="ignore"):
        middle = np.where(np.isinf(start) & np.isinf(end), 0.0, (start + end) / 2)
    mean = np.clip(middle, means[0][:, None], means[1][:, None])
    mass = _masses((start - mean) / L[1, 1], (end - mean) / L[1, 1])
    return np.where(end >= start, mass, 0.0).sum(axis=1)


def propose_latent(region: LatentRegion, rows: np.ndarray, attempts: np.ndarray, key: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(latent scores in model order, GHK weights, uniforms for accepting by weight) for candidate rows.

    Accepting a candidate with probability weight / bound, for any bound at least the largest weight,
    leaves exactly the model's conditional distribution; a tight bound accepts more.
    """
    dims = region.order.size
    states = row_states(key, rows)
    u = uniforms(states, dims, attempts=attempts)
    accept_u = uniforms(states, 1, attempts=attempts, offset=DIMS_PER_ATTEMPT - 2)[:, 0]
    e = np.empty_like(u)
    n_constrained = len(region.dims)
    L = region.cholesky
    weight = np.ones(rows.size)
    for k in range(n_constrained):
        if k == 0 and region.pair is not None:
            e[:, 0], bound = region.cells.draw(u[:, 0])
            weight /= bound
            continue
        mean = rowwise_matmul(e[:, :k], L[k, :k, None])[:, 0] if k else np.zeros(rows.size)
        if k == 1 and region.pair is not None:
            low, high = _target_interval(region, e[:, 0])
        else:
            low, high = region.intervals[k][:, 0], region.intervals[k][:, 1]
        e[:, k], mass = _union_sample(u[:, k], mean, L[k, k], low, high)
        if k:
            weight *= mass
    if n_constrained < dims:
        e[:, n_constrained:] = standard_normals(u[:, n_constrained:])
    permuted = rowwise_matmul(e, L.T)
    scores = np.empty_like(permuted)
    scores[:, region.order] = permuted
    return scores, weight, accept_u
