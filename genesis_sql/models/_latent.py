"""Conditioning a Gaussian copula in its latent space.

Atoms of a condition become, per latent dimension, a union of intervals of the standard-normal score
(numeric ranges through the marginal's CDF, categories and discrete values through their intervals,
NULL through its mass at the bottom). Rows are then proposed with the GHK construction: with the
constrained dimensions first in the Cholesky order, each constrained score is drawn from its exact
conditional normal truncated to the allowed set, and the proposal is accepted with probability equal
to the product of the later dimensions' allowed masses. Accepted rows follow the model's conditional
distribution exactly; a rare condition on one column costs no more than a common one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy.special import ndtr, ndtri

from genesis_sql.conditions.condition import Condition, ConditionSet
from genesis_sql.models.feasibility import _category_matches, _to_number, numeric_interval
from genesis_sql.models._columns import CategoricalCodec, Codec, NumericCodec
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

    @property
    def is_empty(self) -> bool:
        """Whether some constrained dimension allows nothing."""
        return any(iv.shape[0] == 0 for iv in self.intervals)


def compile_region(codecs: list[Codec], latent: list[int], correlation: np.ndarray,
                   conditions: ConditionSet) -> LatentRegion:
    """The latent region of the condition's atoms (and single-column expressions on coded columns)."""
    names = [c.spec.name for c in codecs]
    dims, intervals, masses = [], [], []
    exact_atoms: set[Condition] = set()
    exact_expressions: set[str] = set()
    for j, i in enumerate(latent):
        codec = codecs[i]
        name = codec.spec.name
        atoms = [a for a in conditions.conditions if a.column == name]
        if isinstance(codec, NumericCodec) and not codec.discrete_ and codec.values_.size:
            if not atoms:
                continue
            allowed = _numeric_intervals(codec, atoms)
        elif isinstance(codec, (NumericCodec, CategoricalCodec)):
            # Expressions are evaluated on the column's values, which for numbers coded in days or
            # microseconds would not mean what the SQL says; those stay checks on generated rows.
            evaluable = isinstance(codec, CategoricalCodec) or codec.spec.kind != "datetime"
            expressions = _single_column_expressions(conditions, name, names) if evaluable else []
            if not atoms and not expressions:
                continue
            allowed = _coded_intervals(codec, atoms, expressions)
            exact_atoms.update(atoms)
            exact_expressions.update(expressions)
        else:
            continue
        dims.append(j)
        intervals.append(allowed)
        masses.append(float(np.sum(ndtr(allowed[:, 1]) - ndtr(allowed[:, 0]))) if allowed.size else 0.0)
    rank = np.argsort(masses, kind="stable")
    dims = [dims[r] for r in rank]
    intervals = [intervals[r] for r in rank]
    rest = [j for j in range(len(latent)) if j not in dims]
    order = np.array(dims + rest, dtype=np.int64)
    permuted = correlation[np.ix_(order, order)]
    residual = ConditionSet(tuple(a for a in conditions.conditions if a not in exact_atoms),
                            tuple(e for e in conditions.expressions if e not in exact_expressions))
    return LatentRegion(tuple(dims), tuple(intervals), order, np.linalg.cholesky(permuted), residual)


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


def _union_sample(u: np.ndarray, mean: np.ndarray, scale: float, intervals: Intervals) -> tuple[np.ndarray, np.ndarray]:
    """Draw e with mean + scale * e in the union of ``intervals``; returns (e, allowed mass per row)."""
    if intervals.shape[0] == 1:
        low = (intervals[0, 0] - mean) / scale
        high = (intervals[0, 1] - mean) / scale
        return _truncated(u, low, high), _masses(low, high)
    low = (intervals[:, 0][None, :] - mean[:, None]) / scale
    high = (intervals[:, 1][None, :] - mean[:, None]) / scale
    mass = _masses(low, high)
    total = mass.sum(axis=1)
    cumulative = np.cumsum(mass, axis=1)
    target = u * total
    pick = np.minimum((cumulative < target[:, None]).sum(axis=1), intervals.shape[0] - 1)
    rows = np.arange(u.size)
    before = np.where(pick > 0, cumulative[rows, np.maximum(pick - 1, 0)], 0.0)
    inner = np.clip((target - before) / np.where(mass[rows, pick] > 0, mass[rows, pick], 1.0), 0.0, 1.0)
    return _truncated(inner, low[rows, pick], high[rows, pick]), total


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
        mean = rowwise_matmul(e[:, :k], L[k, :k, None])[:, 0] if k else np.zeros(rows.size)
        e[:, k], mass = _union_sample(u[:, k], mean, L[k, k], region.intervals[k])
        if k:
            weight *= mass
    if n_constrained < dims:
        e[:, n_constrained:] = standard_normals(u[:, n_constrained:])
    permuted = rowwise_matmul(e, L.T)
    scores = np.empty_like(permuted)
    scores[:, region.order] = permuted
    return scores, weight, accept_u
