"""Linkability: can the synthetic rows join two halves of a real person's record?

Anonymeter's ``LinkabilityEvaluator`` (one neighbour), vectorised. The attacker holds two datasets that
each carry some of the columns of the same real rows (``split``). For every attacked row, each half
looks up its closest synthetic row on its own columns; the attack succeeds when both halves land on
the same synthetic row, which links them. Distances are Anonymeter's: a continuous column counts its
difference over the column's range in the synthetic and attacked rows together, a discrete one 0 when
equal and 1 otherwise; two NULLs are equal and a NULL against a value differs by 1 (Anonymeter counts
two NULLs as 1 and leaves a row with one NULL out of the search). Ties are broken in a random order,
each half in its own.

The random baseline links two random synthetic rows (a chance of one in the number of synthetic rows).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.attacks.outcome import AttackOutcome
from genesis_sql.quality.distance import column_ranges, nearest


def closest_synthetic(columns: Sequence[EncodedColumn], targets: tuple[str, np.ndarray],
                      synthetic: tuple[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """For each target row, the position (in ``synthetic``'s rows) of its closest synthetic row on ``columns``.

    Continuous columns are scaled by their range over the synthetic and the target rows together, as
    Anonymeter's ``mixed_types_transform`` does, so no difference exceeds 1. Among equally close synthetic
    rows the first in a random order (one shuffle per call) is chosen: with a fixed first-row rule, two
    halves that each match many rows on a few categories would both pick the same row, and link records
    that share nothing.
    """
    side, rows = synthetic
    order = rng.permutation(rows.size)
    ranges = column_ranges(columns, synthetic, targets)
    return order[nearest(columns, ranges, targets, (side, rows[order])).closest]


def linkability(columns: Sequence[EncodedColumn], *, split: tuple[Sequence[int], Sequence[int]],
                synthetic: tuple[str, np.ndarray], original: tuple[str, np.ndarray],
                control: tuple[str, np.ndarray] | None = None, attacks: int,
                rng: np.random.Generator) -> AttackOutcome:
    """Run the linkability attack on ``attacks`` random ``original`` (training) rows, and on ``control`` rows.

    Args:
        columns: The encoded columns.
        split: The positions in ``columns`` of the first dataset's columns and of the second's.
        synthetic: ``(side, row indices)`` of the synthetic rows.
        original: ``(side, row indices)`` of the training rows attacked.
        control: ``(side, row indices)`` of real rows the model never saw; None without a holdout.
        attacks: Rows to attack on each side (at most all of them).
        rng: The random draws (targets, random baseline).

    Returns:
        The :class:`AttackOutcome` counts.
    """
    halves = [[columns[i] for i in part] for part in split]

    def links(side: str, rows: np.ndarray) -> tuple[int, int]:
        targets = (side, rng.choice(rows, size=min(attacks, rows.size), replace=False))
        first, second = (closest_synthetic(half, targets, synthetic, rng) for half in halves)
        return targets[1].size, int(np.count_nonzero(first == second))

    attacked, linked = links(*original)
    guesses = rng.integers(0, synthetic[1].size, size=(attacked, 2))
    control_attacked, control_linked = (None, None) if control is None else links(*control)
    return AttackOutcome(attacked, linked, attacked, int(np.count_nonzero(guesses[:, 0] == guesses[:, 1])),
                         control_attacked, control_linked)
