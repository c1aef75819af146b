"""Linkability: copied rows link their two halves, fresh rows rarely do; the random baseline is chance."""
from __future__ import annotations

import numpy as np

from genesis_sql.quality.attacks import linkability
from genesis_sql.quality.attacks.linkability import closest_synthetic

# Continuous columns on one side, the categories and the flag (many ties) on the other.
SPLIT = ([0, 1, 2], [3, 4, 5])


def test_each_copy_is_found_and_ties_are_broken_at_random(leaky):
    columns, synthetic = leaky["columns"], leaky["sides"]["synthetic"]
    # Training rows 0..299 are synthetic rows 500..799: on the continuous half each finds its own copy.
    closest = closest_synthetic([columns[i] for i in SPLIT[0]], ("train", np.arange(300)), synthetic,
                                np.random.default_rng(0))
    assert closest.tolist() == list(range(500, 800))
    # On the categorical half dozens of synthetic rows tie with each target: another order, another pick,
    # always among the rows with the target's categories.
    categorical = [columns[i] for i in SPLIT[1]]
    picks = [closest_synthetic(categorical, ("train", np.arange(300)), synthetic, np.random.default_rng(seed))
             for seed in (1, 2)]
    for column in categorical:
        for pick in picks:
            assert (column["synthetic"][pick] == column["train"][:300]).all()
    assert np.mean(picks[0] != picks[1]) > 0.9


def test_copied_rows_are_linked_and_fresh_rows_are_not(leaky, private):
    split = ([0, 3, 4], [1, 2, 5])
    found = linkability(leaky["columns"], split=split, attacks=400, rng=np.random.default_rng(0), **leaky["sides"])
    # 300 of the 400 training rows have a copy; both halves of nearly all of them land on it.
    assert 250 <= found.successes <= 320 and found.control_successes < 40
    assert found.risk().value > 0.5 and found.random_successes <= 5
    clean = linkability(private["columns"], split=split, attacks=400, rng=np.random.default_rng(0), **private["sides"])
    assert clean.risk().low == 0.0


def test_attacks_are_capped_by_the_rows_there_are(private):
    sides = {**private["sides"], "control": None}
    found = linkability(private["columns"], split=SPLIT, attacks=10_000, rng=np.random.default_rng(1), **sides)
    assert found.attacks == found.random_attacks == 400 and found.control_attacks is None
