"""Adversarial random forest (``method="arf"``; Watson, Blesch, Kapar and Wright, AISTATS 2023).

A random forest learns to tell the training rows from rows whose columns were drawn independently; rows
drawn leaf by leaf from the forest replace those, and the forest is trained again until it can no longer
tell them apart (or stops improving). Its leaves then split the data into regions where the columns are
close to independent, so the joint distribution is a mixture of leaves, each a product of one-column
distributions (FORDE): a truncated normal of the column's latent score for numbers, datetimes and text
lengths, the leaf's category frequencies for categories. Sampling (FORGE) picks a leaf by its share of
the training rows and draws every column from that leaf, all from the row's own uniforms, and decodes
the scores through each column's marginal (genesis_sql.models._encoding), so marginals, NULLs, bounds
and precision are the training data's.

The model stores only leaf summaries (weights, means, spreads, bounds, category frequencies), never
training rows; leaves with fewer than ``min_leaf`` training rows are dropped, so no leaf describes a
single row.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._forest import LeafMixture, adversarial_forest, summarize_leaves
from genesis_sql.models._random import row_states, uniforms
from genesis_sql.models.base import BaseSynthesizer, check_is_fitted
from genesis_sql.schema import ColumnSpec


class AdversarialRandomForest(BaseSynthesizer):
    """Adversarial random forest synthesizer.

    Args:
        random_state: seed of everything random in fitting (forest, resampling, text guard salts).
        n_trees: trees in the forest.
        min_leaf: fewest training rows a leaf may hold (smaller leaves are dropped from the mixture).
        max_iterations: most rounds of adversarial training.
        delta: training stops once the forest tells rows apart with accuracy at most 0.5 + delta.
        max_rows: the forest trains on at most this many rows (a seeded sample); leaves summarise all rows.

    Example:
        >>> model = AdversarialRandomForest(random_state=0).fit(table, columns)   # doctest: +SKIP
        >>> model.sample_rows(np.arange(10), key=1)                               # doctest: +SKIP
    """

    method = "arf"

    def __init__(self, *, random_state: int | None = 0, n_trees: int = 10, min_leaf: int = 5,
                 max_iterations: int = 10, delta: float = 0.0, max_rows: int = 100_000) -> None:
        self.random_state = random_state
        self.n_trees = n_trees
        self.min_leaf = min_leaf
        self.max_iterations = max_iterations
        self.delta = delta
        self.max_rows = max_rows

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> AdversarialRandomForest:
        rng = np.random.default_rng(self.random_state)
        encoding = TableEncoding.fit(data, columns, rng)
        features = encoding.normal_scores(data)
        categorical = encoding.categorical_dims()
        for j in categorical:
            features[:, j] = encoding.category_codes(data, j)
        forest, accuracy = adversarial_forest(features, categorical, rng, n_trees=self.n_trees,
                                              min_leaf=self.min_leaf, max_iterations=self.max_iterations,
                                              delta=self.delta, max_rows=self.max_rows)
        self.columns_ = columns
        self.encoding_ = encoding
        self.codecs_ = encoding.codecs
        self.accuracy_ = accuracy
        self.mixture_ = summarize_leaves(forest, features, categorical, min_leaf=self.min_leaf)
        return self

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        check_is_fitted(self)
        states = row_states(key, rows)
        dims = self.encoding_.dims
        u = uniforms(states, dims + 1, attempts=attempts)
        z = self.mixture_.sample(u, self.encoding_)
        return self.encoding_.decode(rows, attempts, key, states, z, offset=dims + 1)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        check_is_fitted(self)
        metas, arrays = self.encoding_.to_state()
        meta, mixture_arrays = self.mixture_.to_state()
        arrays.update({f"leaf.{k}": v for k, v in mixture_arrays.items()})
        return {"codecs": metas, "leaves": meta, "accuracy": self.accuracy_}, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> AdversarialRandomForest:
        model = cls(**params)
        model.columns_ = columns
        model.encoding_ = TableEncoding.from_state(columns, state["codecs"], arrays)
        model.codecs_ = model.encoding_.codecs
        model.accuracy_ = state["accuracy"]
        model.mixture_ = LeafMixture.from_state(
            state["leaves"], {k[5:]: v for k, v in arrays.items() if k.startswith("leaf.")})
        return model
