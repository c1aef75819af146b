"""Gaussian copula with empirical marginals.

Each column becomes a standard-normal score through its own empirical CDF (NULL as a mass at the
bottom, categories as intervals ordered to follow the data's main axis of variation); the latent
correlation matrix behind the scores (their Pearson correlations with the coarsening of categories and
few-valued numbers inverted, genesis_sql.models._latent_correlation) carries the dependence. Sampling
draws correlated normals and maps each back through its marginal, so marginal shapes, bounds,
precision, category frequencies and NULL rates are kept and pairwise dependence follows the training
data.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtr, ndtri

from genesis_sql.models._columns import CategoricalCodec, Codec, codec_for
from genesis_sql.conditions.condition import ConditionSet
from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._latent import LatentRegion, compile_region, propose_latent
from genesis_sql.models._latent_correlation import latent_correlation
from genesis_sql.models._random import row_states, standard_normals, uniforms
from genesis_sql.models._rowwise import rowwise_matmul
from genesis_sql.models.base import BaseSynthesizer, check_is_fitted
from genesis_sql.schema import ColumnSpec

_CLIP = 1e-12
# Rounds of re-ordering categories along the first principal axis of the normal scores.
_LAYOUT_ROUNDS = 2


def _nearest_correlation(corr: np.ndarray) -> np.ndarray:
    """A positive-definite correlation matrix close to ``corr`` (eigenvalues floored, diagonal reset)."""
    corr = np.nan_to_num((corr + corr.T) / 2.0)
    np.fill_diagonal(corr, 1.0)
    values, vectors = np.linalg.eigh(corr)
    fixed = (vectors * np.maximum(values, 1e-6)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)


# The weight bound is the largest weight of a pilot sample times this margin (capped at 1).
_BOUND_MARGIN = 1.05
_BOUND_PILOT = 4096
_BOUND_KEY = 0xB0D


class LatentProposal:
    """Rows of a copula proposed inside a latent region, with their GHK acceptance flags."""

    def __init__(self, model: GaussianCopula, region: LatentRegion) -> None:
        self.model = model
        self.region = region
        self.is_empty = region.is_empty
        first = region.intervals[0] if region.dims else None
        if region.cells is not None:
            self.first_mass = region.cells.total
            self.is_empty = self.is_empty or self.first_mass <= 0
        else:
            self.first_mass = float(np.sum(ndtr(first[:, 1]) - ndtr(first[:, 0]))) if first is not None else 1.0
        self.weight_bound = 1.0
        if not self.is_empty and len(region.dims) > 1:
            pilot = np.arange(_BOUND_PILOT, dtype=np.int64)
            _, weights, _ = propose_latent(region, pilot, np.zeros(pilot.size, dtype=np.int64), _BOUND_KEY)
            self.weight_bound = min(1.0, float(weights.max()) * _BOUND_MARGIN) or 1.0

    def propose_weighted(self, rows: np.ndarray, attempts: np.ndarray, key: int
                         ) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        """Candidate rows for ``rows`` at tries ``attempts``, their GHK weights, and whether each is accepted."""
        scores, weights, accept_u = propose_latent(self.region, rows, attempts, key)
        states = row_states(key, rows)
        table = self.model.decode(rows, attempts, key, states, scores)
        return table, weights, accept_u * self.weight_bound < weights

    def propose(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> tuple[pa.Table, np.ndarray]:
        """Candidate rows for ``rows`` at tries ``attempts``, and whether each is accepted by weight."""
        table, _, accepted = self.propose_weighted(rows, attempts, key)
        return table, accepted


class GaussianCopula(BaseSynthesizer):
    """Gaussian copula synthesizer (``method="copula"``).

    Args:
        random_state: seed for the randomness of fitting (salts of the text guard).

    Example:
        >>> model = GaussianCopula(random_state=0).fit(table, columns)   # doctest: +SKIP
        >>> model.sample_rows(np.arange(10), key=1)                      # doctest: +SKIP
    """

    method = "copula"

    def __init__(self, *, random_state: int | None = 0) -> None:
        self.random_state = random_state

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> GaussianCopula:
        # Forget what was built from an earlier fit (the encoding and condition proposals are cached).
        self.__dict__.pop("encoding", None)
        self.__dict__.pop("_proposals", None)
        rng = np.random.default_rng(self.random_state)
        codecs = TableEncoding.fit(data, columns, rng).codecs
        latent = [i for i, c in enumerate(codecs) if c.latent]
        scores = np.column_stack([codecs[i].scores(data.column(columns[i].name)) for i in latent]) \
            if latent else np.zeros((data.num_rows, 0))
        normal = ndtri(np.clip(scores, _CLIP, 1 - _CLIP))
        for _ in range(_LAYOUT_ROUNDS):
            normal = self._order_categories(data, columns, codecs, latent, normal)
        corr = latent_correlation(normal)
        self.columns_ = columns
        self.codecs_ = codecs
        self.latent_ = latent
        self.correlation_ = _nearest_correlation(np.atleast_2d(corr)) if latent else np.zeros((0, 0))
        self.cholesky_ = np.linalg.cholesky(self.correlation_) if latent else np.zeros((0, 0))
        return self

    @classmethod
    def assemble(cls, columns: list[ColumnSpec], codecs: list[Codec], correlation: np.ndarray, *,
                 random_state: int | None = 0) -> GaussianCopula:
        """A fitted copula from its parts: fitted codecs and the latent correlation of their latent columns.

        Federated training (genesis_sql.federated) builds these from statistics aggregated across sites.
        """
        model = cls(random_state=random_state)
        model.columns_ = columns
        model.codecs_ = codecs
        model.latent_ = [i for i, c in enumerate(codecs) if c.latent]
        model.correlation_ = _nearest_correlation(np.atleast_2d(correlation)) if model.latent_ else np.zeros((0, 0))
        model.cholesky_ = np.linalg.cholesky(model.correlation_) if model.latent_ else np.zeros((0, 0))
        return model

    @staticmethod
    def _order_categories(data: pa.Table, columns: list[ColumnSpec], codecs: list[Codec], latent: list[int],
                          normal: np.ndarray) -> np.ndarray:
        """Lay categories out along the first principal axis, so the copula sees their relation to the rest."""
        if normal.shape[1] < 2:
            return normal
        std = normal.std(axis=0)
        standard = (normal - normal.mean(axis=0)) / np.where(std > 0, std, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.nan_to_num(np.corrcoef(standard, rowvar=False))
        axis = np.linalg.eigh(corr)[1][:, -1]
        projection = standard @ axis
        for j, i in enumerate(latent):
            codec = codecs[i]
            if not isinstance(codec, CategoricalCodec) or len(codec.categories_) < 3:
                continue
            values = data.column(columns[i].name)
            codes = codec.codes(values)
            sums = np.bincount(codes, weights=projection, minlength=len(codec.categories_))
            counts = np.bincount(codes, minlength=len(codec.categories_))
            means = sums / np.maximum(counts, 1)
            codec.set_layout(np.argsort(means, kind="stable"))
            normal[:, j] = ndtri(np.clip(codec.scores(values), _CLIP, 1 - _CLIP))
        return normal

    def decode(self, rows: np.ndarray, attempts: np.ndarray, key: int, states: np.ndarray,
               latent: np.ndarray) -> pa.Table:
        """Turn dependent standard-normal scores (rows x latent dims) into a table of the model's columns."""
        return self.encoding.decode(rows, attempts, key, states, latent, offset=len(self.latent_))

    @functools.cached_property
    def encoding(self) -> TableEncoding:
        """The fitted codecs as a table encoding, which decodes them (built on first use)."""
        check_is_fitted(self)
        return TableEncoding(self.columns_, self.codecs_)

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        check_is_fitted(self)
        states = row_states(key, rows)
        normals = standard_normals(uniforms(states, len(self.latent_), attempts=attempts))
        return self.decode(rows, attempts, key, states, rowwise_matmul(normals, self.cholesky_.T))

    def condition_proposal(self, conditions: ConditionSet) -> LatentProposal:
        """A proposal of rows inside the condition's latent region (see genesis_sql.models._latent); cached."""
        check_is_fitted(self)
        cache = self.__dict__.setdefault("_proposals", {})
        text = conditions.to_sql()
        if text not in cache:
            if len(cache) >= 64:
                cache.pop(next(iter(cache)))
            cache[text] = LatentProposal(self, compile_region(self.codecs_, self.latent_, self.correlation_,
                                                              conditions))
        return cache[text]

    def draw_conditional(self, rows: np.ndarray, key: int, conditions: ConditionSet) -> pa.Table:
        from genesis_sql.conditions.sampling import GuidedConditionalSampler

        return GuidedConditionalSampler(self, "auto").sample(rows, key, conditions)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        check_is_fitted(self)
        metas, arrays = [], {"correlation": self.correlation_}
        for i, codec in enumerate(self.codecs_):
            meta, codec_arrays = codec.to_state()
            metas.append(meta)
            arrays.update({f"{i}.{key}": value for key, value in codec_arrays.items()})
        attached, attached_arrays = self.attached_state()
        arrays.update(attached_arrays)
        return {"codecs": metas, "latent": self.latent_, **attached}, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> GaussianCopula:
        model = cls(**params)
        model.columns_ = columns
        model.codecs_ = []
        for i, (spec, meta) in enumerate(zip(columns, state["codecs"])):
            prefix = f"{i}."
            own = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            model.codecs_.append(type(codec_for(spec)).from_state(spec, meta, own))
        model.latent_ = state["latent"]
        model.correlation_ = arrays["correlation"]
        model.cholesky_ = np.linalg.cholesky(model.correlation_) if model.latent_ else np.zeros((0, 0))
        return model.restore_attached(state, arrays)
