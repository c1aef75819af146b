"""Sequences of rows per entity (``method="sequence"``): panels, event logs, time series.

The training rows are grouped by ``sequence_key`` and ordered by ``sequence_index``. Each entity
becomes one row of an entity table: its context columns (``context_columns``, or the columns constant
within every entity), its sequence length and the index value it starts at; a tabular synthesizer
(chosen as ``method="auto"`` would) models that table, so entity attributes, lengths and their relations
are kept. The time-varying columns are modelled as a first-order vector autoregression of their latent
normal scores, with the entity's context and the position in the sequence as regressors (the first step
regresses on the context alone). Autocorrelation and cross-correlation of the time-varying columns follow;
categories are carried over from one step to the next as often as in training; each column's marginal
comes back through its codec after calibration.

Generation counts entities: entity ``i`` of a stream is drawn from the entity model as row ``i``, then its
steps from uniforms of its own, so output is prefix-stable in entities. Context columns repeat the entity's
values, hence are constant within every generated entity; keys are fresh; the index is the drawn start plus
the drawn steps. Conditions may name context columns only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesis_sql.errors import ConditionError, FitError
from genesis_sql.models._calibration import Calibration, sample_rows
from genesis_sql.models._columns import IdCodec, NumericCodec, _to_float, arrow_type
from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._random import derive_key, row_states, standard_normals, uniforms
from genesis_sql.models._rowwise import rowwise_matmul
from genesis_sql.models.base import BaseSynthesizer, check_is_fitted
from genesis_sql.models.copula import GaussianCopula
from genesis_sql.schema import ColumnSpec

if TYPE_CHECKING:
    from genesis_sql.conditions import ConditionSet

LENGTH, START, STEP = "__length", "__start", "__step"
# Rows of one entity are numbered entity * STEP_SLOTS + step (fresh ids in time-varying columns stay unique).
STEP_SLOTS = 1 << 24
# Steps generated per batch at most (entities x longest sequence), which bounds memory.
_BATCH_STEPS = 1 << 20
# Ridge penalty of the regressions, relative to the number of rows they are fitted on.
_RIDGE = 1e-3
# Categorical context columns enter the regressions as indicators of their most frequent categories.
_MAX_INDICATORS = 16
_CALIBRATION_KEY = 0x5E9CA11B
_LAYOUT_ROUNDS = 2


@dataclass(frozen=True)
class _Groups:
    """Training rows sorted by entity (and index): where each entity starts and how many rows it has."""

    data: pa.Table
    first: np.ndarray
    lengths: np.ndarray

    def firsts(self, name: str) -> pa.ChunkedArray:
        """Each entity's value of column ``name`` (its first row's)."""
        return self.data.column(name).take(pa.array(self.first))

    def constant(self, name: str) -> bool:
        """Whether every entity has one value (NULL counts as a value) in column ``name``."""
        values = self.data.column(name)
        reference = values.take(pa.array(np.repeat(self.first, self.lengths)))
        same = pc.equal(values, reference).fill_null(False)
        both_null = pc.and_(pc.is_null(values), pc.is_null(reference))
        return bool(pc.all(pc.or_(same, both_null)).as_py())


def _group(data: pa.Table, key: str, index: str | None) -> _Groups:
    order = [(key, "ascending")] + ([(index, "ascending")] if index else [])
    data = data.take(pc.sort_indices(data, sort_keys=order))
    entity = np.asarray(pc.dictionary_encode(data.column(key)).combine_chunks().indices.to_numpy(zero_copy_only=False))
    first = np.flatnonzero(np.r_[True, entity[1:] != entity[:-1]])
    return _Groups(data, first, np.diff(np.r_[first, entity.size]))


def _numeric_spec(spec: ColumnSpec) -> ColumnSpec:
    """The index column as a number or datetime, whatever kind detection gave it (years are often categories)."""
    if spec.kind == "datetime":
        return spec
    kind = "integer" if pa.types.is_integer(arrow_type(spec.sql_type)) else "numeric"
    return ColumnSpec(spec.name, kind, spec.sql_type, spec.nullable)


def _nearest_covariance(cov: np.ndarray) -> np.ndarray:
    """A positive-definite matrix close to ``cov`` (eigenvalues floored)."""
    cov = (cov + cov.T) / 2.0
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.maximum(values, 1e-6)) @ vectors.T


def _regression(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge least squares of ``y`` on ``x``: (coefficients, Cholesky factor of the residual covariance)."""
    gram = x.T @ x + _RIDGE * max(x.shape[0], 1) * np.eye(x.shape[1])
    coef = np.linalg.solve(gram, x.T @ y)
    residual = y - x @ coef
    cov = residual.T @ residual / (x.shape[0] - 1) if x.shape[0] > 1 else np.eye(y.shape[1])
    return coef, np.linalg.cholesky(_nearest_covariance(np.atleast_2d(cov)))


class SequenceSynthesizer(BaseSynthesizer):
    """Sequence synthesizer: an entity table model plus a latent vector autoregression.

    Args:
        random_state: seed of the randomness of fitting.
        sequence_key: the column naming the entity each row belongs to (required).
        sequence_index: the column ordering rows within an entity (numbers, dates or timestamps);
            without it, rows keep their order in the training data.
        context_columns: entity-level columns; by default every column constant within every entity.

    Example:
        >>> SequenceSynthesizer(sequence_key="nr", sequence_index="year").fit(table, columns)  # doctest: +SKIP
    """

    method = "sequence"
    entity_rows = True

    def __init__(self, *, random_state: int | None = 0, sequence_key: str | None = None,
                 sequence_index: str | None = None, context_columns: list[str] | None = None) -> None:
        self.random_state = random_state
        self.sequence_key = sequence_key
        self.sequence_index = sequence_index
        self.context_columns = context_columns

    # --- fitting ---------------------------------------------------------------------------------------

    def _check_options(self, data: pa.Table, columns: list[ColumnSpec]) -> dict[str, ColumnSpec]:
        by_name = {c.name: c for c in columns}
        problems = []
        if self.sequence_key is None:
            problems.append("method='sequence' needs sequence_key= naming the entity column")
        elif self.sequence_key not in by_name:
            problems.append(f"sequence_key {self.sequence_key!r} is not a column")
        if self.sequence_index is not None:
            spec = by_name.get(self.sequence_index)
            typ = arrow_type(spec.sql_type) if spec else None
            if spec is None:
                problems.append(f"sequence_index {self.sequence_index!r} is not a column")
            elif not (spec.kind == "datetime" or pa.types.is_integer(typ) or pa.types.is_floating(typ)):
                problems.append(f"sequence_index {self.sequence_index!r} must hold numbers, dates or timestamps "
                                f"(it is {spec.sql_type})")
        unknown = [c for c in self.context_columns or [] if c not in by_name]
        if unknown:
            problems.append(f"context_columns {unknown} are not columns")
        if self.sequence_key in (self.context_columns or []):
            problems.append("the sequence_key cannot also be a context column")
        for name, role in ((self.sequence_key, "sequence_key"), (self.sequence_index, "sequence_index")):
            if name in by_name and data.column(name).null_count:
                problems.append(f"{role} {name!r} has NULLs (every row must name its entity and its place)")
        if problems:
            raise FitError(f"Cannot fit a sequence model: {'; '.join(problems)}. Columns: {list(by_name)}.")
        return by_name

    def _context(self, groups: _Groups, columns: list[ColumnSpec]) -> list[str]:
        if self.context_columns is None:
            return [c.name for c in columns if c.name not in (self.sequence_key, self.sequence_index)
                    and groups.constant(c.name)]
        varying = [c for c in self.context_columns if not groups.constant(c)]
        if varying:
            raise FitError(f"context_columns {varying} change within some entities; context columns must be "
                           "constant per entity. Leave them out of context_columns to model them over time.")
        return list(self.context_columns)

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> SequenceSynthesizer:
        by_name = self._check_options(data, columns)
        rng = np.random.default_rng(self.random_state)
        key, index = self.sequence_key, self.sequence_index
        groups = _group(data, key, index)
        self.columns_ = columns
        self.context_ = self._context(groups, columns)
        self.varying_ = [c.name for c in columns if c.name not in (key, index) and c.name not in self.context_]
        self.key_codec_ = IdCodec(by_name[key]).fit(groups.firsts(key), rng)
        self.max_length_ = int(groups.lengths.max())
        steps = self._fit_index(groups, by_name, rng)
        entities = self._fit_entities(groups, by_name)
        latent = self._fit_encoding(groups, by_name, steps, rng)
        self._fit_dynamics(entities, latent, groups)
        return self

    def _fit_index(self, groups: _Groups, by_name: dict[str, ColumnSpec], rng: np.random.Generator
                   ) -> np.ndarray | None:
        """The index codec and step; returns every row's step from the row before (None when steps are constant)."""
        self.constant_step_ = None
        if self.sequence_index is None:
            return None
        spec = _numeric_spec(by_name[self.sequence_index])
        values = groups.data.column(self.sequence_index)
        self.index_codec_ = NumericCodec(spec).fit(values, rng)
        steps = np.r_[0.0, np.diff(_to_float(values, spec))]
        later = np.ones(steps.size, dtype=bool)
        later[groups.first] = False
        distinct = np.unique(steps[later])
        if distinct.size <= 1:
            self.constant_step_ = float(distinct[0]) if distinct.size else 0.0
            return None
        steps[groups.first] = np.median(steps[later])  # a neutral value; first steps are never used
        return steps

    def _fit_entities(self, groups: _Groups, by_name: dict[str, ColumnSpec]) -> pa.Table:
        """Fit the entity model on context, length and start; returns the entity table."""
        from genesis_sql.models import choose_method, synthesizer_class

        specs = [by_name[c] for c in self.context_] + [ColumnSpec(LENGTH, "integer", "BIGINT", False)]
        arrays = [groups.firsts(c) for c in self.context_] + [pa.chunked_array([pa.array(groups.lengths, pa.int64())])]
        if self.sequence_index is not None:
            spec = self.index_codec_.spec
            specs.append(ColumnSpec(START, spec.kind, spec.sql_type, False))
            arrays.append(groups.firsts(self.sequence_index))
        entities = pa.Table.from_arrays(arrays, names=[s.name for s in specs])
        method = choose_method("auto", entities.num_rows, [s.kind for s in specs])
        self.entity_model_ = synthesizer_class(method)(random_state=self.random_state).fit(entities, specs)
        self.codecs_ = self.entity_model_.codecs_
        self._fit_regressors(entities)
        return entities

    def _fit_encoding(self, groups: _Groups, by_name: dict[str, ColumnSpec], steps: np.ndarray | None,
                      rng: np.random.Generator) -> np.ndarray:
        """Codecs of the time-varying columns (and of the steps when they vary); returns their latent scores."""
        specs = [by_name[c] for c in self.varying_]
        arrays = [groups.data.column(c) for c in self.varying_]
        if steps is not None:
            specs.append(ColumnSpec(STEP, "numeric", "DOUBLE", False))
            arrays.append(pa.chunked_array([pa.array(steps)]))
        if not specs:
            self.encoding_ = TableEncoding([], [])
            return np.zeros((groups.data.num_rows, 0))
        table = pa.Table.from_arrays(arrays, names=[s.name for s in specs])
        self.encoding_ = TableEncoding.fit(table, specs, rng)
        latent = self.encoding_.normal_scores(table)
        codecs, dims = self.encoding_.codecs, self.encoding_.latent
        for _ in range(_LAYOUT_ROUNDS):  # categories laid out along the data's main axis, as the copula does
            latent = GaussianCopula._order_categories(table, specs, codecs, dims, latent)
        return latent

    def _fit_regressors(self, entities: pa.Table) -> None:
        """What the entity-level regressors are: frequent categories, and each number's centre and scale."""
        self.regressor_terms_: dict[str, list[Any]] = {}
        for spec in self.entity_model_.columns_:
            values = entities.column(spec.name)
            if spec.kind in ("categorical", "boolean"):
                counts = pc.value_counts(values)
                order = np.argsort(-np.asarray(counts.field("counts")), kind="stable")[:_MAX_INDICATORS]
                self.regressor_terms_[spec.name] = [counts.field("values")[int(i)].as_py() for i in order]
            elif spec.kind in ("numeric", "integer", "datetime"):
                x = _to_float(values, spec)
                finite = x[np.isfinite(x)]
                centre = float(finite.mean()) if finite.size else 0.0
                scale = float(finite.std()) if finite.size else 0.0
                self.regressor_terms_[spec.name] = [centre, scale or 1.0]

    def _regressors(self, entities: pa.Table) -> np.ndarray:
        """Entity-level regressors: a constant, standardised numbers, indicators of frequent categories."""
        parts = [np.ones((entities.num_rows, 1))]
        for spec in self.entity_model_.columns_:
            terms = self.regressor_terms_.get(spec.name)
            if terms is None:
                continue
            values = entities.column(spec.name)
            if spec.kind in ("categorical", "boolean"):
                for value in terms:
                    hit = pc.is_null(values) if value is None else pc.equal(values, pa.scalar(value, values.type))
                    parts.append(np.asarray(hit.fill_null(False), dtype=float)[:, None])
            else:
                centre, scale = terms
                parts.append(np.nan_to_num((_to_float(values, spec) - centre) / scale)[:, None])
        return np.hstack(parts)

    def _fit_dynamics(self, entities: pa.Table, latent: np.ndarray, groups: _Groups) -> None:
        """The first-step regression, the autoregression, then calibration and carry-over rates."""
        d = latent.shape[1]
        context = self._regressors(entities)
        step = np.arange(latent.shape[0]) - np.repeat(groups.first, groups.lengths)
        later = np.flatnonzero(step > 0)
        self.step_scale_ = max(self.max_length_ - 1, 1)
        self.initial_, self.initial_noise_ = _regression(context, latent[groups.first])
        if later.size:
            lagged = np.hstack([latent[later - 1], np.repeat(context, groups.lengths, axis=0)[later],
                                (step[later] / self.step_scale_)[:, None]])
            self.transition_, self.transition_noise_ = _regression(lagged, latent[later])
        else:
            self.transition_ = np.zeros((d + context.shape[1] + 1, d))
            self.transition_noise_ = np.eye(d)
        self.stay_ = np.zeros(d)
        self.calibration_ = Calibration(np.zeros((0, d)))
        if d:
            rows = np.arange(max(sample_rows(latent.shape[0]) // max(int(groups.lengths.mean()), 1), 1))
            simulated_entities = self.entity_model_.sample_rows(rows, key=_CALIBRATION_KEY)
            z, lengths = self._steps(simulated_entities, rows, _CALIBRATION_KEY, calibrated=False)
            self.calibration_ = Calibration.fit(z)
            self.stay_ = self._carry_over(latent, groups.lengths, self.calibration_.apply(z), lengths)

    def _carry_over(self, latent: np.ndarray, lengths: np.ndarray, simulated: np.ndarray,
                    simulated_lengths: np.ndarray) -> np.ndarray:
        """Per latent dimension, how often a category is carried over on top of the autoregression's own stays.

        A category kept with probability a, and otherwise drawn from the autoregression, is kept with
        probability a + (1 - a) q where q is the autoregression's own rate; a is set so that this equals the
        training data's rate. Carrying over does not change the long-run category shares.
        """
        stay = np.zeros(latent.shape[1])
        for j in self.encoding_.categorical_dims():
            codec = self.encoding_.codecs[self.encoding_.latent[j]]
            rates = []
            for z, runs in ((latent, lengths), (simulated, simulated_lengths)):
                owner = np.repeat(np.arange(runs.size), runs)
                category = codec.category_index(z[:, j])
                consecutive = owner[1:] == owner[:-1]
                same = category[1:][consecutive] == category[:-1][consecutive]
                rates.append(float(same.mean()) if same.size else 0.0)
            real, own = rates
            stay[j] = np.clip((real - own) / (1.0 - own), 0.0, 1.0) if own < 1.0 else 0.0
        return stay

    # --- generation ------------------------------------------------------------------------------------

    def _steps(self, entities: pa.Table, rows: np.ndarray, key: int, *, calibrated: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
        """(latent scores of every step, entity-major; lengths) for the given entity rows."""
        lengths = np.clip(np.asarray(entities.column(LENGTH).to_numpy(zero_copy_only=False), dtype=np.int64), 1, None)
        d = self.encoding_.dims
        if d == 0 or rows.size == 0:
            return np.zeros((int(lengths.sum()), d)), lengths
        context = self._regressors(entities)
        states = row_states(derive_key(key, "steps"), rows)
        longest = int(lengths.max())
        z = np.empty((rows.size, longest, d))
        sticky = np.flatnonzero(self.stay_ > 0)
        for t in range(longest):
            u = uniforms(states, 2 * d, offset=2 * d * t)  # d for the innovation, d for carrying categories over
            noise = rowwise_matmul(standard_normals(u[:, :d]), self.transition_noise_.T if t else self.initial_noise_.T)
            if t == 0:
                z[:, 0] = rowwise_matmul(context, self.initial_) + noise
                continue
            lagged = np.hstack([z[:, t - 1], context, np.full((rows.size, 1), t / self.step_scale_)])
            z[:, t] = rowwise_matmul(lagged, self.transition_) + noise
            keep = u[:, d + sticky] < self.stay_[sticky]
            z[:, t, sticky] = np.where(keep, z[:, t - 1, sticky], z[:, t, sticky])
        flat = z[np.arange(longest)[None, :] < lengths[:, None]]
        return (self.calibration_.apply(flat) if calibrated else flat), lengths

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        """Candidate entities (their context, length and start) for entity ``rows``; conditions test these."""
        check_is_fitted(self)
        return self.entity_model_.draw(rows, attempts, key)

    def check_conditions(self, conditions: ConditionSet) -> None:
        """Raise :class:`ConditionError` when a condition names a column that changes within entities."""
        outside = sorted(set(conditions.columns) - set(self.context_))
        if outside:
            raise ConditionError(
                f"Conditions on a sequence model may use entity-level (context) columns only: "
                f"{', '.join(self.context_) or 'this model has none'}. Got {', '.join(outside)}, which change "
                "within an entity; filter the generated rows with WHERE instead.")

    def sample_rows(self, rows: np.ndarray, *, key: int, conditions: ConditionSet | None = None) -> pa.Table:
        """Every row of entities ``rows`` (entity-major, in index order), their context meeting ``conditions``."""
        check_is_fitted(self)
        rows = np.asarray(rows, dtype=np.int64)
        if conditions is not None and not conditions.is_empty:
            self.check_conditions(conditions)
        per_batch = max(_BATCH_STEPS // self.max_length_, 1)
        pieces = [self._entities(rows[i:i + per_batch], key, conditions) for i in range(0, rows.size, per_batch)]
        if not pieces:
            return self._entities(rows, key, conditions)
        return pa.concat_tables(pieces).combine_chunks() if len(pieces) > 1 else pieces[0]

    def _entities(self, rows: np.ndarray, key: int, conditions: ConditionSet | None) -> pa.Table:
        entities = self.entity_model_.sample_rows(rows, key=key, conditions=conditions)
        z, lengths = self._steps(entities, rows, key)
        owner = np.repeat(np.arange(rows.size), lengths)
        step = np.arange(owner.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids = rows[owner] * STEP_SLOTS + step
        step_key = derive_key(key, "rows")
        varying = self.encoding_.decode(ids, np.zeros(ids.size, dtype=np.int64), step_key, row_states(step_key, ids),
                                        z, offset=0) if self.encoding_.codecs else None
        take = pa.array(owner)
        arrays = []
        for spec in self.columns_:
            if spec.name == self.sequence_key:
                arrays.append(self.key_codec_.sample_ids(rows, f"{key & 0xFFFFFF:06x}").take(take))
            elif spec.name == self.sequence_index:
                arrays.append(self._index(entities, varying, lengths, step))
            elif spec.name in self.context_:
                arrays.append(entities.column(spec.name).combine_chunks().take(take))
            else:
                arrays.append(varying.column(spec.name).combine_chunks())
        return pa.Table.from_arrays(arrays, schema=self.output_schema)

    def _index(self, entities: pa.Table, varying: pa.Table | None, lengths: np.ndarray, step: np.ndarray) -> pa.Array:
        """The index column: each entity's start plus its steps."""
        start = np.repeat(_to_float(entities.column(START), self.index_codec_.spec), lengths)
        if self.constant_step_ is not None:
            increments = np.where(step > 0, self.constant_step_, 0.0)
        else:
            increments = np.where(step > 0, np.asarray(varying.column(STEP).to_numpy(zero_copy_only=False)), 0.0)
        offsets = np.cumsum(increments)
        offsets -= np.repeat(offsets[np.cumsum(lengths) - lengths], lengths)
        return self.index_codec_.to_arrow(start + offsets)

    def entity_offsets(self, table: pa.Table) -> np.ndarray:
        """Offsets (entities + 1) of each entity's rows in ``table`` as :meth:`sample_rows` returned it."""
        keys = table.column(self.sequence_key).combine_chunks()
        if len(keys) == 0:
            return np.zeros(1, dtype=np.int32)
        changed = np.asarray(pc.not_equal(keys[1:], keys[:-1]).to_numpy(zero_copy_only=False), dtype=bool)
        return np.r_[0, np.flatnonzero(changed) + 1, len(keys)].astype(np.int32)

    # --- state -----------------------------------------------------------------------------------------

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        check_is_fitted(self)
        entity_state, entity_arrays = self.entity_model_.to_state()
        metas, varying_arrays = self.encoding_.to_state()
        arrays = {f"varying.{k}": v for k, v in varying_arrays.items()}
        arrays.update({f"entity.{k}": v for k, v in entity_arrays.items()})
        arrays.update({"initial": self.initial_, "initial_noise": self.initial_noise_, "transition": self.transition_,
                       "transition_noise": self.transition_noise_, "calibration": self.calibration_.knots,
                       "stay": self.stay_})
        state = {
            "context": self.context_, "varying": self.varying_, "key": self.key_codec_.to_state()[0],
            "entity": {"method": self.entity_model_.method, "params": self.entity_model_.get_params(),
                       "columns": [c.to_dict() for c in self.entity_model_.columns_], "state": entity_state},
            "codecs": metas, "varying_columns": [c.to_dict() for c in self.encoding_.columns],
            "regressors": self.regressor_terms_, "step_scale": self.step_scale_, "max_length": self.max_length_,
            "constant_step": self.constant_step_,
        }
        if self.sequence_index is not None:
            index_meta, index_arrays = self.index_codec_.to_state()
            state["index"] = index_meta
            arrays.update({f"index.{k}": v for k, v in index_arrays.items()})
        return state, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> SequenceSynthesizer:
        from genesis_sql.models import synthesizer_class

        def own(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        model = cls(**params)
        by_name = {c.name: c for c in columns}
        model.columns_ = columns
        model.context_, model.varying_ = state["context"], state["varying"]
        model.key_codec_ = IdCodec.from_state(by_name[model.sequence_key], state["key"], {})
        entity = state["entity"]
        model.entity_model_ = synthesizer_class(entity["method"]).from_state(
            entity["params"], [ColumnSpec.from_dict(c) for c in entity["columns"]], entity["state"], own("entity."))
        model.codecs_ = model.entity_model_.codecs_
        model.encoding_ = TableEncoding.from_state([ColumnSpec.from_dict(c) for c in state["varying_columns"]],
                                                   state["codecs"], own("varying."))
        model.initial_, model.initial_noise_ = arrays["initial"], arrays["initial_noise"]
        model.transition_, model.transition_noise_ = arrays["transition"], arrays["transition_noise"]
        model.calibration_, model.stay_ = Calibration(arrays["calibration"]), arrays["stay"]
        model.regressor_terms_ = state["regressors"]
        model.step_scale_, model.max_length_ = state["step_scale"], state["max_length"]
        model.constant_step_ = state["constant_step"]
        if model.sequence_index is not None:
            model.index_codec_ = NumericCodec.from_state(_numeric_spec(by_name[model.sequence_index]), state["index"],
                                                         own("index."))
        return model
