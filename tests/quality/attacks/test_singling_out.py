"""Singling out: candidate queries, queries that single out one synthetic row, leaks found, caps kept."""
from __future__ import annotations

import numpy as np

from genesis_sql.quality.attacks import singling_out
from genesis_sql.quality.attacks.queries import EQ, GE, IS_NULL, LE, attack_matrix, first_distinct
from genesis_sql.quality.attacks.singling_out import multivariate_queries, random_queries, univariate_queries

NAN = np.nan


def as_set(queries) -> set[tuple]:
    return {(int(c), int(o), None if np.isnan(v) else float(v))
            for c, o, v in zip(queries.columns.ravel(), queries.ops.ravel(), queries.values.ravel())}


def test_univariate_candidates_by_hand():
    # Column 0 (continuous): 1 and 5 occur once and are the extremes; 2 occurs twice. Column 1 (discrete):
    # code 1 occurs once, and one row is NULL.
    synthetic = np.array([[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [5.0, NAN]])
    found = univariate_queries(synthetic, np.array([True, False]), 100, np.random.default_rng(0))
    assert as_set(found) == {(0, EQ, 1.0), (0, EQ, 5.0), (0, LE, 1.0), (0, GE, 5.0), (1, EQ, 1.0), (1, IS_NULL, None)}
    assert len(univariate_queries(synthetic, np.array([True, False]), 4, np.random.default_rng(0))) == 4


def test_written_queries_single_out_one_synthetic_row(leaky):
    columns, (side, rows) = leaky["columns"], leaky["sides"]["synthetic"]
    synthetic = attack_matrix(columns, side, rows)
    synthetic = synthetic[first_distinct(synthetic)]
    continuous = np.array([c.is_continuous for c in columns])
    rng = np.random.default_rng(1)
    for written in (univariate_queries(synthetic, continuous, 200, rng),
                    multivariate_queries(synthetic, continuous, 200, 3, 10_000, rng)):
        assert len(written) == 200 and (written.counts(synthetic) == 1).all()
        assert len(written.distinct()) == 200
    guesses = random_queries(synthetic, continuous, 300, 3, rng)
    assert guesses.columns.shape == (300, 3) and (np.diff(guesses.columns, axis=1) > 0).all()


def test_copied_training_rows_are_singled_out_and_fresh_rows_are_not(leaky, private):
    for mode in ("univariate", "multivariate"):
        found = singling_out(leaky["columns"], mode=mode, attacks=300, max_attempts=100_000,
                             rng=np.random.default_rng(2), **leaky["sides"])
        assert found.outcome.successes > found.outcome.control_successes + 30
        assert found.outcome.risk().low > 0.05
        clean = singling_out(private["columns"], mode=mode, attacks=300, max_attempts=100_000,
                             rng=np.random.default_rng(2), **private["sides"])
        assert clean.outcome.risk().low == 0.0


def test_rates_count_the_queries_written_when_the_cap_stops_the_attacker(leaky):
    found = singling_out(leaky["columns"], mode="multivariate", attacks=500, n_cols=6, max_attempts=1_000,
                         rng=np.random.default_rng(3), **leaky["sides"])
    assert found.queries < 500
    assert found.outcome.attacks == found.outcome.control_attacks == found.queries
    assert found.outcome.random_attacks == 500


def test_without_a_holdout_there_is_no_control(leaky):
    sides = {**leaky["sides"], "control": None}
    found = singling_out(leaky["columns"], mode="univariate", attacks=100, max_attempts=1,
                         rng=np.random.default_rng(4), **sides)
    assert found.outcome.control_attacks is None and found.outcome.control_rate() is None
