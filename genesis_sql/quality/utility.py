"""Machine-learning utility: train on synthetic, test on real (TSTR) against train on real (TRTR).

The same gradient-boosting model predicts the target column from every other continuous and discrete
column, once trained on real rows and once on synthetic rows, both tested on the same held-out real
rows, which neither model trained on (the protocol: with a holdout, the real model trains on the
training rows and both are tested on the holdout; without one, the real rows are split in two). A
continuous target is a regression scored by R²; a discrete one a classification scored by
macro F1 over the classes in the test rows. The utility score is ``TSTR / TRTR`` clipped to [0, 1]:
1.0 means models trained on synthetic data do as well as models trained on real data.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score

from genesis_sql.quality._columns import EncodedColumn
from genesis_sql.quality._threads import one_thread

# HistGradientBoosting handles at most this many categories natively; more are used as ordinal codes.
MAX_NATIVE_CATEGORIES = 255
MAX_ITER = 100


@dataclass(frozen=True)
class UtilityResult:
    """TSTR and TRTR of one target and the utility score they give.

    Attributes:
        task: ``"regression"`` or ``"classification"``.
        metric: ``"r2"`` or ``"f1_macro"``.
        trtr: Score of the model trained on real rows.
        tstr: Score of the model trained on synthetic rows.
        score: ``tstr / trtr`` clipped to [0, 1]; NaN when ``trtr <= 0``.
    """

    task: str
    metric: str
    trtr: float
    tstr: float
    score: float


def _design(features: Sequence[EncodedColumn], side: str, rows: np.ndarray) -> np.ndarray:
    blocks = []
    for column in features:
        values = column[side][rows].astype(np.float64)
        if not column.is_continuous:
            values[values < 0] = np.nan
        blocks.append(values)
    return np.column_stack(blocks) if blocks else np.zeros((rows.size, 0))


def _predict(task: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
             categorical: list[bool], seed: int) -> np.ndarray:
    if task == "classification" and np.unique(y_train).size < 2:
        # A single class cannot be learned; predicting it everywhere is what any model would do.
        return np.full(len(x_test), y_train[0] if y_train.size else -1)
    model_class = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    model = model_class(max_iter=MAX_ITER, random_state=seed,
                        categorical_features=np.array(categorical, dtype=bool) if any(categorical) else None)
    # At most MODEL_ROWS rows: one thread is as fast, and does not stall on a busy machine as OpenMP does.
    with one_thread():
        return model.fit(x_train, y_train).predict(x_test)


def ml_efficacy(columns: Sequence[EncodedColumn], target: str, *, real_rows: np.ndarray,
                synthetic_rows: np.ndarray, test_side: str, test_rows: np.ndarray, seed: int,
                real_side: str = "real") -> UtilityResult:
    """Compare TSTR with TRTR for ``target``.

    Args:
        columns: The encoded columns; ``target`` must be one of them.
        target: The column to predict.
        real_rows: Rows of ``real_side`` to train the TRTR model on.
        synthetic_rows: Rows of the ``"synthetic"`` side to train the TSTR model on.
        test_side: The side of the test rows (``"real"`` for a split of it, or ``"holdout"``).
        test_rows: Rows of ``test_side`` both models are tested on.
        seed: Seeds the models.
        real_side: The side the TRTR model trains on: ``"real"``, or ``"train"`` (the model's training
            rows) when the test rows are a holdout, so that no row is both trained and tested on.

    Returns:
        The :class:`UtilityResult`.
    """
    target_column = next(c for c in columns if c.name == target)
    features = [c for c in columns if c.name != target]
    task = "regression" if target_column.is_continuous else "classification"
    categorical = [not c.is_continuous and len(c.labels) <= MAX_NATIVE_CATEGORIES for c in features]

    def labelled(side: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = rows[~target_column.is_null(side)[rows]]
        return _design(features, side, rows), target_column[side][rows]

    x_real, y_real = labelled(real_side, real_rows)
    x_synthetic, y_synthetic = labelled("synthetic", synthetic_rows)
    x_test, y_test = labelled(test_side, test_rows)
    if task == "regression":
        def measure(prediction: np.ndarray) -> float:
            return float(r2_score(y_test, prediction))
    else:
        classes = np.unique(y_test)

        def measure(prediction: np.ndarray) -> float:
            return float(f1_score(y_test, prediction, labels=classes, average="macro", zero_division=0))

    trtr = measure(_predict(task, x_real, y_real, x_test, categorical, seed))
    tstr = measure(_predict(task, x_synthetic, y_synthetic, x_test, categorical, seed))
    score = float(np.clip(tstr / trtr, 0.0, 1.0)) if trtr > 0 else float("nan")
    return UtilityResult(task, "r2" if task == "regression" else "f1_macro", trtr, tstr, score)
