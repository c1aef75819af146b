"""Singling out: can the synthetic rows tell an attacker a predicate that fits exactly one real person?

Anonymeter's ``SinglingOutEvaluator`` (after Cohen and Nissim 2020), vectorised. The attacker writes
queries that match exactly one synthetic row; an attack succeeds when its query matches exactly one
training row too. Duplicate rows are dropped first on every side, as Anonymeter does.

- *univariate*: one predicate each, from the synthetic values seen once (``column = value``), the
  extremes of a continuous column when they are unique (``column <= min``, ``column >= max``) and a
  single NULL (``column IS NULL``); at most ``attacks`` of them, drawn at random.
- *multivariate*: the values of a random synthetic row in ``n_cols`` random columns, a continuous
  value turned into a bound towards its tail (``>=`` above the column's median, ``<=`` otherwise);
  queries that match more than one synthetic row are dropped, until ``attacks`` distinct ones are
  found or ``max_attempts`` rows were tried. The random draws are Anonymeter 1.1's (batches of 1,000
  row indices, then each query's columns), so the same seed writes the same queries.

The rates count over the queries written: when fewer than ``attacks`` single a synthetic row out within
``max_attempts``, Anonymeter still divides by ``attacks`` (and warns that the risk is underestimated);
here the interval widens instead. The random baseline asks ``attacks`` queries of random columns, random
operators and random synthetic values. The control (holdout) rows should be as many as the training
rows, as the quality evaluator draws them: Anonymeter instead fits a correction for a control of
another size.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.attacks.outcome import AttackOutcome
from genesis_sql.quality.attacks.queries import (
    EQ,
    GE,
    GT,
    IS_NULL,
    LE,
    LT,
    NE,
    NOT_NULL,
    Queries,
    attack_matrix,
    first_distinct,
)

# Anonymeter's defaults: columns per multivariate query, and candidate queries written per batch.
COLUMNS_PER_QUERY = 3
BATCH = 1000
_CONTINUOUS_OPS = np.array([EQ, NE, GT, LT, GE, LE])
_DISCRETE_OPS = np.array([EQ, NE])


@dataclass(frozen=True)
class SinglingOut:
    """A singling-out attack's counts and how many queries the attacker managed to write.

    Attributes:
        outcome: The attack, holdout and random counts; the attacks are the queries written.
        queries: Distinct queries written that single out a synthetic row (at most the attacks asked for).
    """

    outcome: AttackOutcome
    queries: int


def _one_predicate(column: int, ops: Sequence[int], values: Sequence[float]) -> Queries:
    count = len(ops)
    return Queries(np.full((count, 1), column), np.array(ops, dtype=np.int64).reshape(count, 1),
                   np.array(values, dtype=np.float64).reshape(count, 1))


def univariate_queries(synthetic: np.ndarray, continuous: np.ndarray, attacks: int,
                       rng: np.random.Generator) -> Queries:
    """At most ``attacks`` one-predicate queries that each match exactly one row of ``synthetic``, at random."""
    parts = []
    for column in range(synthetic.shape[1]):
        values = synthetic[:, column]
        present = values[~np.isnan(values)]
        distinct, counts = np.unique(present, return_counts=True)
        rare = distinct[counts == 1]
        parts.append(_one_predicate(column, [EQ] * rare.size, rare))
        if continuous[column] and distinct.size:
            # The extremes single a row out when only one row has them.
            ends = [(LE, distinct[0], counts[0]), (GE, distinct[-1], counts[-1])]
            parts.append(_one_predicate(column, [op for op, _, n in ends if n == 1], [v for _, v, n in ends if n == 1]))
        if present.size == values.size - 1:
            parts.append(_one_predicate(column, [IS_NULL], [np.nan]))
    candidates = Queries.concat(parts)
    return candidates.take(rng.permutation(len(candidates))[:attacks])


def multivariate_queries(synthetic: np.ndarray, continuous: np.ndarray, attacks: int, n_cols: int,
                         max_attempts: int, rng: np.random.Generator) -> Queries:
    """At most ``attacks`` distinct ``n_cols``-predicate queries built from synthetic rows, each matching one."""
    rows, width = synthetic.shape
    n_cols = min(n_cols, width)
    with np.errstate(all="ignore"):
        medians = np.array([np.nanmedian(synthetic[:, c]) if continuous[c] and not np.isnan(synthetic[:, c]).all()
                            else np.nan for c in range(width)])
    found = Queries(np.zeros((0, n_cols), np.int64), np.zeros((0, n_cols), np.int64), np.zeros((0, n_cols)))
    batch, attempts = min(BATCH, max_attempts), 0
    while len(found) < attacks and attempts < max_attempts:
        picked = rng.integers(low=0, high=rows, size=batch)
        columns = np.sort([rng.choice(width, size=n_cols, replace=False) for _ in range(batch)], axis=1)
        values = synthetic[picked[:, None], columns]
        medians_here = medians[columns]
        above = np.greater(values, medians_here, where=~np.isnan(medians_here), out=np.zeros(values.shape, bool))
        ops = np.where(np.isnan(values), IS_NULL, np.where(continuous[columns], np.where(above, GE, LE), EQ))
        candidates = Queries(columns, ops, values)
        found = Queries.concat([found, candidates.take(candidates.counts(synthetic) == 1)]).distinct()
        attempts += batch
    return found.take(slice(0, attacks))


def random_queries(synthetic: np.ndarray, continuous: np.ndarray, attacks: int, n_cols: int,
                   rng: np.random.Generator) -> Queries:
    """``attacks`` queries of ``n_cols`` random columns, each with a random operator and synthetic value."""
    width = synthetic.shape[1]
    n_cols = min(n_cols, width)
    columns = np.sort(rng.random((attacks, width)).argsort(axis=1)[:, :n_cols], axis=1)
    distinct = [first_distinct(synthetic[:, [c]]) for c in range(width)]
    pick = (rng.random(columns.shape) * np.array([d.size for d in distinct])[columns]).astype(np.int64)
    rows = np.array([distinct[c][i] for c, i in zip(columns.ravel(), pick.ravel())]).reshape(columns.shape)
    values = synthetic[rows, columns]
    choice = rng.random(columns.shape)
    ops = np.where(continuous[columns], _CONTINUOUS_OPS[(choice * _CONTINUOUS_OPS.size).astype(np.int64)],
                   _DISCRETE_OPS[(choice * _DISCRETE_OPS.size).astype(np.int64)])
    ops = np.where(np.isnan(values), np.where(ops == EQ, IS_NULL, NOT_NULL), ops)
    return Queries(columns, ops, values)


def _distinct_rows(columns: Sequence[EncodedColumn], side: str, rows: np.ndarray) -> np.ndarray:
    matrix = attack_matrix(columns, side, rows)
    return matrix[first_distinct(matrix)]


def _singled_out(queries: Queries, matrix: np.ndarray) -> int:
    return int(np.count_nonzero(queries.counts(matrix) == 1))


def singling_out(columns: Sequence[EncodedColumn], *, synthetic: tuple[str, np.ndarray],
                 original: tuple[str, np.ndarray], control: tuple[str, np.ndarray] | None = None,
                 mode: Literal["univariate", "multivariate"] = "multivariate", attacks: int,
                 n_cols: int = COLUMNS_PER_QUERY, max_attempts: int, rng: np.random.Generator) -> SinglingOut:
    """Run the singling-out attack on the ``original`` (training) rows, and on the ``control`` rows.

    Args:
        columns: The encoded columns the attacker knows (at least one).
        synthetic: ``(side, row indices)`` of the synthetic rows the queries are written from.
        original: ``(side, row indices)`` of the training rows attacked.
        control: ``(side, row indices)`` of real rows the model never saw, as many as ``original``;
            None without a holdout.
        mode: ``"univariate"`` or ``"multivariate"``.
        attacks: How many queries to write at most (and to ask at random for the baseline).
        n_cols: Predicates per multivariate query (and per random-baseline query in that mode).
        max_attempts: At most this many synthetic rows are tried for multivariate queries.
        rng: The random draws (queries first, then the random baseline's).

    Returns:
        The :class:`SinglingOut` counts.
    """
    fake = _distinct_rows(columns, *synthetic)
    real = _distinct_rows(columns, *original)
    continuous = np.array([c.is_continuous for c in columns])
    if mode == "univariate":
        n_cols = 1
        queries = univariate_queries(fake, continuous, attacks, rng)
    else:
        queries = multivariate_queries(fake, continuous, attacks, n_cols, max_attempts, rng)
    guesses = random_queries(fake, continuous, attacks, n_cols, rng)
    written = len(queries)
    in_control = None if control is None else _singled_out(queries, _distinct_rows(columns, *control))
    outcome = AttackOutcome(written, _singled_out(queries, real), attacks, _singled_out(guesses, real),
                            None if control is None else written, in_control)
    return SinglingOut(outcome, written)
