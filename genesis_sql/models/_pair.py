"""Conditions between two numeric columns that proposals can aim at: linear ones such as ``x > y + 0.46``.

A conjunct whose sides are linear in exactly two numeric columns (``x > y + 0.46``, ``death - diag >= 365``,
``2 * a <= b``, ``x - y BETWEEN 0.1 AND 0.5``) allows, for each value of one column (the driver), an
interval of the other (the target): ``slope * driver + low <= target <= slope * driver + high``. A proposal
draws the driver's score, then the target's score inside the scores of that interval. The scores are
widened so that rounding never leaves out an allowed value; the conjunct stays a check on every generated
row, so the widening costs a few rejections, never exactness.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sqlglot
from sqlglot import exp

from genesis_sql.conditions.condition import ConditionSet
from genesis_sql.models._columns import Z_GRID, Z_LIMIT, Codec, NumericCodec

# Scores are widened by this much (as for one-column conditions, genesis_sql.models._latent).
SLACK = 1e-3
# Relative widening of values: the decoder and DuckDB's arithmetic round differently in the last bits.
_RELATIVE = 1e-9
_GRID = np.linspace(-Z_LIMIT, Z_LIMIT, Z_GRID)
_COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE)

Linear = dict[str | None, float]  # column -> coefficient, None -> constant


def _linear(node: exp.Expression) -> Linear | None:
    """The expression as a linear combination of columns plus a constant, or None when it is not one."""
    if isinstance(node, exp.Paren):
        return _linear(node.this)
    if isinstance(node, exp.Column):
        return {node.name: 1.0}
    if isinstance(node, exp.Literal) and not node.is_string:
        return {None: float(node.this)}
    if isinstance(node, exp.Neg):
        inner = _linear(node.this)
        return None if inner is None else {k: -v for k, v in inner.items()}
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        left, right = _linear(node.this), _linear(node.expression)
        if left is None or right is None:
            return None
        if isinstance(node, (exp.Add, exp.Sub)):
            sign = 1.0 if isinstance(node, exp.Add) else -1.0
            return {k: left.get(k, 0.0) + sign * right.get(k, 0.0) for k in left.keys() | right.keys()}
        if isinstance(node, exp.Div):
            divisor = right.get(None, 0.0)
            if node.args.get("typed") or set(right) != {None} or divisor == 0:
                return None  # integer division, or not by a constant
            return {k: v / divisor for k, v in left.items()}
        if set(left) == {None}:
            left, right = right, left
        if set(right) != {None}:
            return None  # a product of columns
        return {k: v * right[None] for k, v in left.items()}
    return None


@dataclass(frozen=True)
class LinearPair:
    """``slope * driver + low <= target <= slope * driver + high`` (``low`` or ``high`` may be infinite)."""

    text: str
    target: str
    driver: str
    slope: float
    low: float
    high: float


def _pair(text: str, tree: exp.Expression, difference: Linear, low: float, high: float) -> LinearPair | None:
    """The pair meaning ``low <= difference <= high``, when the difference names exactly two columns; the
    target is the one named first (an order that does not depend on hashing, so neither do the rows)."""
    named = dict.fromkeys(c.name for c in tree.find_all(exp.Column, bfs=False))
    columns = [k for k in named if difference.get(k, 0.0) != 0]
    if len(columns) != 2:
        return None
    target, driver = columns
    a, b, constant = difference[target], difference[driver], difference.get(None, 0.0)
    # low <= a * target + b * driver + constant <= high, solved for the target
    ends = [(low - constant) / a, (high - constant) / a]
    lower, upper = ends if a > 0 else ends[::-1]
    return LinearPair(text, target, driver, -b / a, lower, upper)


def linear_pair(text: str) -> LinearPair | None:
    """The pair of a conjunct (canonical condition SQL), or None when it is not a linear comparison of two
    columns."""
    tree = sqlglot.parse_one(text, read="duckdb")
    if isinstance(tree, _COMPARISONS):
        left, right = _linear(tree.this), _linear(tree.expression)
        if left is None or right is None:
            return None
        difference = {k: left.get(k, 0.0) - right.get(k, 0.0) for k in left.keys() | right.keys()}
        above = isinstance(tree, (exp.GT, exp.GTE))
        return _pair(text, tree, difference, 0.0 if above else -math.inf, math.inf if above else 0.0)
    if isinstance(tree, exp.Between):
        middle, low, high = _linear(tree.this), _linear(tree.args["low"]), _linear(tree.args["high"])
        if middle is None or low is None or high is None or set(low) != {None} or set(high) != {None}:
            return None
        return _pair(text, tree, middle, low[None], high[None])
    return None


def _numeric(codec: Codec) -> bool:
    """Whether a column's values are numbers in the units SQL arithmetic on it uses (not timestamps)."""
    spec = codec.spec
    return (isinstance(codec, NumericCodec) and codec.values_.size > 0
            and (spec.kind in ("numeric", "integer") or spec.sql_type.upper() == "DATE"))


def _half_step(codec: NumericCodec) -> float:
    """Half the rounding step of generated values (0 when they are not rounded)."""
    if codec.discrete_:
        return 0.0
    return codec.step_ / 2 if codec.step_ else 0.5 * 10.0 ** -codec.decimals_ if codec.decimals_ is not None else 0.0


def _scores_from(codec: NumericCodec, values: np.ndarray) -> np.ndarray:
    """The smallest score whose decoded value can be at least ``values`` (a lower bound of those scores)."""
    first, second = codec._normal_lookup
    if codec.discrete_:
        nulls = int(np.isnan(second[0]))
        i = np.searchsorted(second[nulls:], values, side="left") + nulls
        return np.where(i >= second.size, np.inf, np.where(i > 0, first[np.maximum(i - 1, 0)], -np.inf))
    i = np.searchsorted(first, values, side="left")
    below = np.where(i >= Z_GRID, np.inf, np.where(i > 0, _GRID[np.maximum(i - 1, 0)], -np.inf))
    return np.maximum(below, second[0])  # scores below the NULL bound decode to NULL


def _scores_to(codec: NumericCodec, values: np.ndarray) -> np.ndarray:
    """The largest score whose decoded value can be at most ``values`` (an upper bound of those scores)."""
    first, second = codec._normal_lookup
    if codec.discrete_:
        nulls = int(np.isnan(second[0]))
        i = np.searchsorted(second[nulls:], values, side="right") + nulls - 1
        return np.where(i < nulls, -np.inf, np.where(i >= second.size - 1, np.inf, first[np.minimum(i, first.size - 1)]))
    i = np.searchsorted(first, values, side="right")
    return np.where(i >= Z_GRID, np.inf, np.where(i > 0, _GRID[np.minimum(i, Z_GRID - 1)], -np.inf))


class PairScores:
    """A linear pair in the columns' normal scores: for driver scores, the target scores allowed.

    Args:
        pair: the condition between the two columns.
        target, driver: their codecs.
    """

    def __init__(self, pair: LinearPair, target: NumericCodec, driver: NumericCodec) -> None:
        self.pair = pair
        self.target = target
        self.driver = driver
        # The driver's value is read as the decoder reads it, rounding included; the target's rounding
        # may lift a value just outside the interval into it.
        self._widen = _half_step(target)

    def target_scores(self, driver_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) score bounds of the target per driver score; low > high where nothing is allowed (a
        NULL driver meets no comparison)."""
        value = self.driver.numbers_from_normal(driver_scores)
        middle = self.pair.slope * value
        widen = self._widen + _RELATIVE * (np.abs(middle) + abs(self.pair.slope) * np.abs(value) + 1.0)
        with np.errstate(invalid="ignore"):
            low = _scores_from(self.target, middle + (self.pair.low - widen - _RELATIVE * abs(self.pair.low)))
            high = _scores_to(self.target, middle + (self.pair.high + widen + _RELATIVE * abs(self.pair.high)))
        null = np.isnan(value)
        return np.where(null, np.inf, low - SLACK), np.where(null, -np.inf, high + SLACK)


def pair_scores(conditions: ConditionSet, codecs: dict[str, Codec]) -> PairScores | None:
    """The first conjunct of ``conditions`` that is a linear pair of two numeric columns in ``codecs`` (a
    continuous target preferred, whose scores follow the condition more closely), or None."""
    for text in conditions.expressions:
        pair = linear_pair(text)
        if pair is None or not all(c in codecs and _numeric(codecs[c]) for c in (pair.target, pair.driver)):
            continue
        if codecs[pair.target].discrete_ and not codecs[pair.driver].discrete_:
            pair = _swapped(pair)
        return PairScores(pair, codecs[pair.target], codecs[pair.driver])
    return None


def _swapped(pair: LinearPair) -> LinearPair:
    """The same pair solved for the driver: ``(target - high) / slope <= driver <= (target - low) / slope``."""
    ends = [-pair.high / pair.slope, -pair.low / pair.slope]
    low, high = ends if pair.slope > 0 else ends[::-1]
    return LinearPair(pair.text, pair.driver, pair.target, 1.0 / pair.slope, low, high)
