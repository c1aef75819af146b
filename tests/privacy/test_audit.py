"""The small DP audit (genesis_sql.privacy.audit): the empirical epsilon stays under the declared one, and
the same attack on the mechanism without noise proves a large one (so the audit has power).

bench/privacy_audit.py runs the same audit with many more fits.
"""
from __future__ import annotations

import pytest

from genesis_sql.privacy import mechanism
from genesis_sql.privacy.audit import audit, clopper_pearson_upper

TRIALS = 150


def test_clopper_pearson_upper_bound_is_the_exact_binomial_one():
    # No failure in 150 trials: the rate p with (1 - p)^150 = 5%.
    assert clopper_pearson_upper(0, 150) == pytest.approx(1 - 0.05 ** (1 / 150))
    assert clopper_pearson_upper(150, 150) == 1.0
    assert clopper_pearson_upper(30, 150) > 30 / 150


@pytest.mark.slow
@pytest.mark.parametrize("epsilon", [0.5, 1.0, 4.0])
def test_empirical_epsilon_stays_under_the_declared_one(epsilon):
    assert audit(epsilon, TRIALS).epsilon_lower_bound <= epsilon


@pytest.mark.slow
def test_the_attack_catches_the_mechanism_without_noise(monkeypatch):
    monkeypatch.setattr(mechanism, "gaussian_sigma", lambda sensitivity, rho: 0.0)
    result = audit(1.0, TRIALS)
    assert result.false_positives == result.false_negatives == 0
    assert result.epsilon_lower_bound >= 2.0
