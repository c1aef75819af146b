"""Detection: can a classifier tell real rows from synthetic ones?

Follows SDMetrics' ``LogisticDetection``: a logistic regression on the standardised, one-hot encoded
rows, scored by ROC AUC in 3-fold stratified cross-validation; each fold counts ``2 * max(AUC, 0.5) - 1``
(chance-level or worse is 0) and the score is one minus their mean, that is ``1 - 2 |AUC - 0.5|`` for a
classifier at least as good as chance. 1.0: indistinguishable; 0.0: perfectly separable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from genesis_sql.quality._threads import one_thread

FOLDS = 3


@dataclass(frozen=True)
class DetectionResult:
    """The detection score and the mean cross-validated AUC behind it."""

    score: float
    auc: float


def detection_score(real: np.ndarray, synthetic: np.ndarray, *, seed: int) -> DetectionResult:
    """Score how hard it is to tell ``synthetic`` rows from ``real`` ones (feature matrices).

    Args:
        real: Real rows as a float feature matrix.
        synthetic: Synthetic rows with the same feature columns.
        seed: Seeds the fold split and the classifier.

    Returns:
        The :class:`DetectionResult`; NaN score when a side has fewer rows than folds.
    """
    if min(len(real), len(synthetic)) < FOLDS or real.shape[1] == 0:
        return DetectionResult(float("nan"), float("nan"))
    features = np.vstack([real, synthetic])
    labels = np.concatenate([np.ones(len(real)), np.zeros(len(synthetic))])
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    aucs = []
    with one_thread():
        for train, test in folds.split(features, labels):
            classifier = LogisticRegression(max_iter=500, random_state=seed)
            classifier.fit(features[train], labels[train])
            aucs.append(roc_auc_score(labels[test], classifier.predict_proba(features[test])[:, 1]))
    gains = [2.0 * max(auc, 0.5) - 1.0 for auc in aucs]
    return DetectionResult(float(1.0 - np.mean(gains)), float(np.mean(aucs)))
