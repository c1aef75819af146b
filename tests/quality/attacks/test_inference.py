"""Inference: right guesses (numbers within 5%, NULL = NULL), copied rows give their secrets away."""
from __future__ import annotations

import numpy as np

from genesis_sql.quality.attacks import inference
from genesis_sql.quality.attacks.inference import correct_guesses


def test_correct_guesses():
    assert correct_guesses(np.array([3, -1, 2]), np.array([3, -1, 1]), continuous=False).tolist() == [True, True, False]
    guesses, secrets = np.array([100.0, 100.0, -10.0, np.nan, 0.0]), np.array([95.5, 94.0, 5.0, 1.0, 0.0])
    # Within 5% of the guess; a negative guess is not right by default (anonymeter's signed division).
    assert correct_guesses(guesses, secrets, continuous=True).tolist() == [True, False, False, False, True]


def test_copied_rows_give_their_secrets_away_and_fresh_rows_do_not(leaky, private):
    for secret in range(len(leaky["columns"])):
        found = inference(leaky["columns"], secret, attacks=400, rng=np.random.default_rng(secret), **leaky["sides"])
        assert found.successes >= 300 and found.risk().low > 0.3, leaky["columns"][secret].name
        clean = inference(private["columns"], secret, attacks=400, rng=np.random.default_rng(secret),
                          **private["sides"])
        assert clean.risk().low == 0.0, private["columns"][secret].name


def test_the_random_baseline_guesses_random_synthetic_values(private):
    # Category "c" has six equally likely values: blind guessing is right about one time in six.
    found = inference(private["columns"], 3, attacks=400, rng=np.random.default_rng(0), **private["sides"])
    assert found.random_attacks == 400 and 35 <= found.random_successes <= 100
