"""Anonymeter's statistics: Wilson rates, the residual risk over the holdout baseline, clipping."""
from __future__ import annotations

import doctest
import importlib
import math

import pytest

from genesis_sql.quality.attacks.outcome import AttackOutcome, Rate, residual_rate, success_rate


def test_wilson_rate_and_residual_risk_match_anonymeter():
    # anonymeter 1.1: success_rate(500, 50, 0.95) and EvaluationResults(500, 100, 5, 50).risk().
    rate = success_rate(500, 50)
    assert (rate.value, rate.error) == pytest.approx((0.1030497361846209, 0.026372173447319198))
    risk = AttackOutcome(500, 100, 500, 5, control_attacks=500, control_successes=50).risk()
    assert (risk.value, risk.low, risk.high) == pytest.approx((0.11063887258554954, 0.06366466141244373,
                                                              0.15761308375865535))


def test_without_a_control_the_risk_is_the_attack_rate():
    attack = AttackOutcome(200, 30, 200, 2)
    assert attack.control_rate() is None
    rate = attack.attack_rate()
    assert attack.risk() == Rate(rate.value, rate.error).to_risk()
    assert attack.risk().low == pytest.approx(rate.value - rate.error)


def test_a_control_easier_to_attack_clips_the_risk_to_zero():
    risk = AttackOutcome(500, 20, 500, 1, control_attacks=500, control_successes=80).risk()
    assert (risk.value, risk.low) == (0.0, 0.0) and risk.high >= 0.0


def test_no_attack_and_a_control_that_always_succeeds_give_no_risk():
    assert math.isnan(success_rate(0, 0).value)
    assert math.isnan(residual_rate(Rate(0.9, 0.01), Rate(1.0, 0.0)).value)
    assert math.isnan(AttackOutcome(0, 0, 500, 3).risk().value)


def test_bigger_samples_narrow_the_interval():
    small, large = success_rate(100, 10), success_rate(10_000, 1_000)
    assert large.error < small.error / 5


@pytest.mark.parametrize("module", ["outcome", "queries", "inference"])
def test_docstring_examples_run(module):
    # Through importlib: the package re-exports each attack function under its module's name.
    assert doctest.testmod(importlib.import_module(f"genesis_sql.quality.attacks.{module}")).failed == 0
