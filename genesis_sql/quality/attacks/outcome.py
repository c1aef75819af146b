"""What an attack achieved, and the privacy risk it implies, with Anonymeter's statistics.

An attack is run three times: against the training rows (the *attack*), against real rows the model never
saw (the *control*, here the holdout: the *holdout baseline*), and as blind guessing (the *random*
baseline, a sanity check). Each success rate is a Wilson score estimate with a symmetric error at the
confidence level; the risk is the excess of the attack over the control, normalised by the control's room
for improvement, ``(attack - control) / (1 - control)``, with the error propagated, then clipped to
[0, 1]. Without a control the risk is the attack's success rate itself, as Anonymeter reports it.
This is ``anonymeter.stats.confidence`` (Giomi et al. 2022, "A Unified Framework for Quantifying Privacy
Risk in Synthetic Data") over plain counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Risk:
    """A privacy risk in [0, 1] and its confidence interval.

    Attributes:
        value: The best estimate.
        low: The lower end of the confidence interval.
        high: The upper end.
    """

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Rate:
    """A success rate and the symmetric error bound of its estimate."""

    value: float
    error: float

    def to_risk(self) -> Risk:
        """The rate as a :class:`Risk`, its estimate and interval clipped to [0, 1]."""
        def clip(x: float) -> float:
            return min(max(x, 0.0), 1.0)

        return Risk(clip(self.value), clip(self.value - self.error), clip(self.value + self.error))


def success_rate(attacks: int, successes: float, confidence: float = CONFIDENCE) -> Rate:
    """The Wilson score estimate of a success rate from ``successes`` out of ``attacks`` Bernoulli trials
    (NaN for no trial).

    Example:
        >>> rate = success_rate(500, 50)
        >>> round(rate.value, 4), round(rate.error, 4)
        (0.103, 0.0264)
    """
    if attacks == 0:
        return Rate(float("nan"), float("nan"))
    z = float(norm.ppf(0.5 * (1.0 + confidence)))
    variance = successes * (attacks - successes) / attacks
    denominator = attacks + z * z
    return Rate((successes + 0.5 * z * z) / denominator, z / denominator * math.sqrt(variance + 0.25 * z * z))


def residual_rate(attack: Rate, control: Rate) -> Rate:
    """How much the attack on the training rows beats the same attack on the control rows, normalised.

    ``(attack - control) / (1 - control)``, negative when the control rows are easier to attack; the
    error is propagated from both rates. A control that always succeeds leaves no room: NaN.

    Example:
        >>> residual_rate(Rate(0.5, 0.0), Rate(0.0, 0.0))
        Rate(value=0.5, error=0.0)
    """
    if control.value >= 1.0:
        return Rate(float("nan"), float("nan"))
    room = 1.0 - control.value
    error = math.hypot(attack.error / room, control.error * (attack.value - 1.0) / room ** 2)
    return Rate((attack.value - control.value) / room, error)


@dataclass(frozen=True)
class AttackOutcome:
    """The counts of one attack, its holdout baseline and its random baseline.

    Attributes:
        attacks: Attacks made on the training rows.
        successes: How many of them succeeded.
        random_attacks: Blind guesses made (the random baseline).
        random_successes: How many of them succeeded.
        control_attacks: Attacks made on the holdout rows; None without a holdout.
        control_successes: How many of them succeeded; None without a holdout.
    """

    attacks: int
    successes: int
    random_attacks: int
    random_successes: int
    control_attacks: int | None = None
    control_successes: int | None = None

    def attack_rate(self, confidence: float = CONFIDENCE) -> Rate:
        """The success rate on the training rows."""
        return success_rate(self.attacks, self.successes, confidence)

    def random_rate(self, confidence: float = CONFIDENCE) -> Rate:
        """The success rate of blind guessing."""
        return success_rate(self.random_attacks, self.random_successes, confidence)

    def control_rate(self, confidence: float = CONFIDENCE) -> Rate | None:
        """The success rate on the holdout rows (the holdout baseline); None without a holdout."""
        if self.control_attacks is None or self.control_successes is None:
            return None
        return success_rate(self.control_attacks, self.control_successes, confidence)

    def risk(self, confidence: float = CONFIDENCE) -> Risk:
        """The privacy risk: residual over the holdout baseline when there is one, else the attack's rate.

        Example:
            >>> outcome = AttackOutcome(500, 100, 500, 5, control_attacks=500, control_successes=50)
            >>> round(outcome.risk().value, 3)
            0.111
        """
        attack, control = self.attack_rate(confidence), self.control_rate(confidence)
        return (attack if control is None else residual_rate(attack, control)).to_risk()
