"""A small DP audit: a membership-inference attack on neighbouring tables, one canary row in or out.

Many fits of each table give the attack's false-positive and false-negative rates; with their one-sided
95% Clopper-Pearson upper bounds, ``log((1 - delta - FNR) / FPR)`` (and the mirror) is a lower bound on
the epsilon the mechanism really has. It must stay under the declared epsilon; with the noise switched
off the same attack must prove an epsilon of at least 2, so the audit has the power to catch a leak.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import beta

from genesis_sql.privacy import DPCopula, public_schema
from genesis_sql.privacy import mechanism

TRIALS = 150
CANARY = 95
DELTA = 1e-6


def _tables() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(0)
    age = rng.integers(20, 60, 300)
    x = rng.normal(size=300)
    out = pa.table({"age": age.astype(np.int64), "x": x})
    inside = pa.table({"age": np.append(age, CANARY).astype(np.int64), "x": np.append(x, 0.0)})
    return out, inside


def _guesses_in(table: pa.Table, epsilon: float) -> bool:
    """The attack: is the canary's value released with more than half a row's share of the marginal?"""
    specs = public_schema({"age": "BIGINT", "x": "DOUBLE"}, None)
    model = DPCopula(epsilon=epsilon, delta=DELTA, public_bounds={"age": [0, 100], "x": [-5, 5]}).fit(table, specs)
    codec = model.codecs_[0]
    at = np.flatnonzero(codec.values_ == CANARY)
    mass = float(codec.cdf_[at[0]] - (codec.cdf_[at[0] - 1] if at[0] > 0 else 0.0)) if at.size else 0.0
    return mass > 0.5 / table.num_rows


def _upper(failures: int) -> float:
    return 1.0 if failures >= TRIALS else float(beta.ppf(0.95, failures + 1, TRIALS - failures))


def _epsilon_lower_bound(epsilon: float) -> float:
    out, inside = _tables()
    false_positive = sum(_guesses_in(out, epsilon) for _ in range(TRIALS))
    false_negative = sum(not _guesses_in(inside, epsilon) for _ in range(TRIALS))
    fpr, fnr = _upper(false_positive), _upper(false_negative)
    bounds = [math.log(max(1.0 - DELTA - a, 1e-300) / b) for a, b in ((fnr, fpr), (fpr, fnr))]
    return max(0.0, *bounds)


@pytest.mark.slow
@pytest.mark.parametrize("epsilon", [0.5, 1.0, 4.0])
def test_empirical_epsilon_stays_under_the_declared_one(epsilon):
    assert _epsilon_lower_bound(epsilon) <= epsilon


@pytest.mark.slow
def test_the_attack_catches_the_mechanism_without_noise(monkeypatch):
    monkeypatch.setattr(mechanism, "gaussian_sigma", lambda sensitivity, rho: 0.0)
    assert _epsilon_lower_bound(1.0) >= 2.0
