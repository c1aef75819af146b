"""A membership-inference audit of the DP copula: an empirical lower bound on the epsilon it really has.

Two neighbouring tables differ by one canary row (age ``CANARY``, an age no other row has). The attack
fits the DP copula on one of them and guesses the canary is in when the released age marginal gives the
canary's value more than half a row's share. Over many fits of each table, the attack's false-positive
rate (guessing in on the table without the canary) and false-negative rate (guessing out on the table
with it) bound the mechanism's epsilon from below: an (epsilon, delta)-DP mechanism has
``1 - delta - FNR <= e^epsilon FPR`` and the mirror, so with the rates replaced by one-sided
Clopper-Pearson upper bounds, ``log((1 - delta - FNR) / FPR)`` is a lower bound on epsilon at that
confidence (Jagielski et al. 2020, "Auditing differentially private machine learning").

The bound must stay under the declared epsilon; with the noise switched off (the caller patches
``mechanism.gaussian_sigma`` to 0) the same attack must prove a large epsilon, which shows the audit has
the power to catch a leak. tests/privacy/test_audit.py runs it with few fits, bench/privacy_audit.py
with many.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.stats import beta

from genesis_sql.privacy.mechanism import DPCopula, public_schema

CANARY = 95
DELTA = 1e-6
CONFIDENCE = 0.95
ROWS = 300
_TYPES = {"age": "BIGINT", "x": "DOUBLE"}
# Declared domains, so the attack looks at one released statistic (the age histogram, one bin per age).
_BOUNDS = {"age": [0, 100], "x": [-5, 5]}


def neighbouring_tables(rows: int = ROWS, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """``(without, with)``: ``rows`` ordinary rows (ages 20-59), and the same plus the canary row."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 60, rows)
    x = rng.normal(size=rows)
    without = pa.table({"age": age.astype(np.int64), "x": x})
    with_canary = pa.table({"age": np.append(age, CANARY).astype(np.int64), "x": np.append(x, 0.0)})
    return without, with_canary


def guesses_in(table: pa.Table, epsilon: float) -> bool:
    """One DP fit of ``table`` and the attack's guess: is the canary's age released with over half a row's share?"""
    model = DPCopula(epsilon=epsilon, delta=DELTA, public_bounds=_BOUNDS).fit(table, public_schema(_TYPES, None))
    codec = model.codecs_[0]
    at = np.flatnonzero(codec.values_ == CANARY)
    mass = float(codec.cdf_[at[0]] - (codec.cdf_[at[0] - 1] if at[0] > 0 else 0.0)) if at.size else 0.0
    return mass > 0.5 / table.num_rows


def clopper_pearson_upper(failures: int, trials: int, confidence: float = CONFIDENCE) -> float:
    """The one-sided Clopper-Pearson upper bound on a rate seen ``failures`` times in ``trials``."""
    return 1.0 if failures >= trials else float(beta.ppf(confidence, failures + 1, trials - failures))


@dataclass(frozen=True)
class AuditResult:
    """The attack's outcome over ``trials`` fits of each neighbouring table.

    Attributes:
        epsilon: The declared epsilon.
        trials: Fits of each table.
        false_positives: Fits without the canary where the attack guessed in.
        false_negatives: Fits with the canary where the attack guessed out.
        fpr_upper, fnr_upper: Their one-sided Clopper-Pearson upper bounds at ``confidence``.
        epsilon_lower_bound: The epsilon the mechanism provably exceeds at ``confidence`` (0 when none).
        epsilon_estimate: The same from the raw rates (inf when one is 0): a point estimate, not a bound.
    """

    epsilon: float
    trials: int
    confidence: float
    false_positives: int
    false_negatives: int
    fpr_upper: float
    fnr_upper: float
    epsilon_lower_bound: float
    epsilon_estimate: float


def _epsilon_from(fpr: float, fnr: float) -> float:
    """``max(0, log((1 - delta - FNR) / FPR), log((1 - delta - FPR) / FNR))``, inf where a divisor is 0."""
    def one_side(missed: float, wrong: float) -> float:
        power = 1.0 - DELTA - missed
        if power <= 0.0:
            return 0.0
        return math.inf if wrong == 0.0 else math.log(power / wrong)

    return max(0.0, one_side(fnr, fpr), one_side(fpr, fnr))


def audit(epsilon: float, trials: int, *, confidence: float = CONFIDENCE) -> AuditResult:
    """Run the attack on ``trials`` DP fits of each neighbouring table and bound epsilon from below."""
    without, with_canary = neighbouring_tables()
    false_positives = sum(guesses_in(without, epsilon) for _ in range(trials))
    false_negatives = sum(not guesses_in(with_canary, epsilon) for _ in range(trials))
    fpr_upper = clopper_pearson_upper(false_positives, trials, confidence)
    fnr_upper = clopper_pearson_upper(false_negatives, trials, confidence)
    return AuditResult(epsilon=epsilon, trials=trials, confidence=confidence, false_positives=false_positives,
                       false_negatives=false_negatives, fpr_upper=fpr_upper, fnr_upper=fnr_upper,
                       epsilon_lower_bound=_epsilon_from(fpr_upper, fnr_upper),
                       epsilon_estimate=_epsilon_from(false_positives / trials, false_negatives / trials))
