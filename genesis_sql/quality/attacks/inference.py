"""Inference: can the synthetic rows tell an attacker a secret column of a real person they partly know?

Anonymeter's ``InferenceEvaluator`` with its nearest-neighbour attacker, vectorised. The attacker knows
every other column of a real row, finds the closest synthetic row on them (the distance of
:mod:`genesis_sql.quality.attacks.linkability`) and guesses its value of the secret column. A guess is
right when it equals the secret (discrete columns; two NULLs are equal) or, for a number, when it is
within ``tolerance`` of the guess's magnitude, Anonymeter's ``|guess - secret| / |guess| <= 0.05``
(Anonymeter divides by the signed guess, so that any negative guess counts as right).

The random baseline guesses the secret of random synthetic rows (Anonymeter 1.1's baseline re-indexes
those guesses by the targets' row labels and so compares mostly missing values).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality.attacks.linkability import closest_synthetic
from genesis_sql.quality.attacks.outcome import AttackOutcome

# Anonymeter's default: a guessed number is right within 5% of the guess.
TOLERANCE = 0.05


def correct_guesses(guesses: np.ndarray, secrets: np.ndarray, *, continuous: bool,
                    tolerance: float = TOLERANCE) -> np.ndarray:
    """Which guesses are right: equal (NULL to NULL included), or for numbers within ``tolerance`` of the guess.

    Example:
        >>> correct_guesses(np.array([100.0, 100.0, np.nan]), np.array([104.0, 90.0, np.nan]), continuous=True).tolist()
        [True, False, True]
    """
    if not continuous:
        return guesses == secrets
    with np.errstate(invalid="ignore"):
        close = np.abs(guesses - secrets) <= tolerance * (np.abs(guesses) + 1e-12)
    return close | (np.isnan(guesses) & np.isnan(secrets))


def inference(columns: Sequence[EncodedColumn], secret: int, *, synthetic: tuple[str, np.ndarray],
              original: tuple[str, np.ndarray], control: tuple[str, np.ndarray] | None = None, attacks: int,
              rng: np.random.Generator, tolerance: float = TOLERANCE) -> AttackOutcome:
    """Run the inference attack on the secret ``columns[secret]`` of random ``original`` rows, and of ``control`` rows.

    Args:
        columns: The encoded columns: the secret and those the attacker knows (at least one).
        secret: The position of the secret column in ``columns``.
        synthetic: ``(side, row indices)`` of the synthetic rows.
        original: ``(side, row indices)`` of the training rows attacked.
        control: ``(side, row indices)`` of real rows the model never saw; None without a holdout.
        attacks: Rows to attack on each side (at most all of them).
        rng: The random draws (targets, random baseline).
        tolerance: How close a guessed number must be, relative to the guess.

    Returns:
        The :class:`AttackOutcome` counts.
    """
    target, known = columns[secret], [c for i, c in enumerate(columns) if i != secret]
    fake_side, fake_rows = synthetic

    def right(side: str, rows: np.ndarray, guessed_rows: np.ndarray) -> int:
        hits = correct_guesses(target[fake_side][guessed_rows], target[side][rows],
                               continuous=target.is_continuous, tolerance=tolerance)
        return int(np.count_nonzero(hits))

    def attack(side: str, rows: np.ndarray) -> tuple[int, int]:
        targets = rng.choice(rows, size=min(attacks, rows.size), replace=False)
        return targets.size, right(side, targets, fake_rows[closest_synthetic(known, (side, targets), synthetic, rng)])

    attacked, inferred = attack(*original)
    blind = min(attacked, fake_rows.size)
    side, rows = original
    guessed = right(side, rng.choice(rows, size=blind, replace=False), rng.choice(fake_rows, size=blind, replace=False))
    control_attacked, control_inferred = (None, None) if control is None else attack(*control)
    return AttackOutcome(attacked, inferred, blind, guessed, control_attacked, control_inferred)
