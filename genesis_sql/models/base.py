"""The synthesizer contract (sklearn-style estimators with a counter-based ``sample_rows``).

Parameters go in ``__init__`` untouched; ``fit`` learns attributes ending in ``_`` and returns ``self``;
``sample_rows`` produces the rows with the given indices, each a pure function of (key, row index), so
any batch of rows is the same whoever asks for it and in whatever order. Models persist as data through
``to_state`` / ``from_state`` (JSON plus numeric arrays), never as pickles.
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from genesis_sql.errors import GenesisError
from genesis_sql.models._columns import arrow_type
from genesis_sql.schema import ColumnSpec, output_type

if TYPE_CHECKING:
    from genesis_sql.conditions import ConditionSet


# Rows generated per vectorised step: large enough to amortise per-call costs, small enough that the
# working arrays stay in cache (bigger pieces were measured slower per row on these machines).
PIECE_ROWS = 4096


class NotFittedError(GenesisError):
    """A synthesizer was asked to sample before ``fit``."""


def check_is_fitted(model: BaseSynthesizer) -> None:
    """Raise :class:`NotFittedError` unless ``model`` has learned attributes."""
    if getattr(model, "columns_", None) is None:
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' with training data first."
        )


class BaseSynthesizer:
    """What every synthesizer provides; subclasses implement ``fit``, ``draw`` and the state methods."""

    method: ClassVar[str]
    # Whether output rows come in groups per entity (sequence models): ``n`` then counts entities.
    entity_rows: ClassVar[bool] = False
    # Rows per vectorised step of ``sample_rows``; a model that makes many small numpy calls per step
    # amortises them over more rows.
    piece_rows: ClassVar[int] = PIECE_ROWS

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` parameters, as given."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> BaseSynthesizer:
        """Learn from ``data`` whose columns are described by ``columns``; returns ``self``."""
        raise NotImplementedError

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        """Unconditional candidates for output ``rows`` at retry numbers ``attempts`` (one per row)."""
        raise NotImplementedError

    def draw_conditional(self, rows: np.ndarray, key: int, conditions: ConditionSet) -> pa.Table:
        """Rows that satisfy ``conditions``, produced natively; raise NotImplementedError to fall back."""
        raise NotImplementedError

    def check_conditions(self, conditions: ConditionSet) -> None:
        """Raise a ConditionError for conditions this model cannot honour (all are fine by default)."""

    def sample_rows(self, rows: np.ndarray, *, key: int, conditions: ConditionSet | None = None) -> pa.Table:
        """Output rows ``rows`` (int64 indices) of the stream ``key``, satisfying ``conditions`` if given."""
        check_is_fitted(self)
        rows = np.asarray(rows, dtype=np.int64)
        step = self.piece_rows
        if rows.size > step:
            pieces = [self.sample_rows(rows[i:i + step], key=key, conditions=conditions)
                      for i in range(0, rows.size, step)]
            return pa.concat_tables(pieces)
        if conditions is None or conditions.is_empty:
            return self.draw(rows, np.zeros(rows.size, dtype=np.int64), key)
        try:
            return self.draw_conditional(rows, key, conditions)
        except NotImplementedError:
            from genesis_sql.conditions.sampling import GuidedConditionalSampler

            return GuidedConditionalSampler(self, "iterative").sample(rows, key, conditions)

    @property
    def output_schema(self) -> pa.Schema:
        """The Arrow schema of generated rows."""
        check_is_fitted(self)
        return pa.schema([(c.name, arrow_type(output_type(c.sql_type))) for c in self.columns_])

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Learned state as JSON-able metadata plus named numeric arrays."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> BaseSynthesizer:
        """Rebuild a fitted synthesizer from :meth:`to_state` output."""
        raise NotImplementedError
