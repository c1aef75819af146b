"""The detection score: chance-level classifiers score 1, perfect ones 0."""
from __future__ import annotations

import math

import numpy as np

from genesis_sql.quality.detection import detection_score


def test_same_distribution_is_hard_to_detect():
    rng = np.random.default_rng(0)
    result = detection_score(rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3)), seed=0)
    assert result.score > 0.9 and abs(result.auc - 0.5) < 0.05


def test_separable_rows_are_detected():
    rng = np.random.default_rng(0)
    result = detection_score(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + 10, seed=0)
    assert result.score < 0.05 and result.auc > 0.97


def test_same_seed_same_score_and_too_few_rows_undefined():
    rng = np.random.default_rng(2)
    real, synthetic = rng.normal(size=(300, 2)), rng.normal(0.3, 1, size=(300, 2))
    assert detection_score(real, synthetic, seed=5) == detection_score(real, synthetic, seed=5)
    assert math.isnan(detection_score(real[:2], synthetic, seed=0).score)
