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
from genesis_sql.models._seen import SeenPairs
from genesis_sql.rules import RuleSet
from genesis_sql.rules.entity import BLOCK_ROWS
from genesis_sql.schema import ColumnSpec, output_type

if TYPE_CHECKING:
    from genesis_sql.conditions import ConditionSet


# Rows generated per vectorised step: large enough to amortise per-call costs, small enough that the
# working arrays stay in cache (bigger pieces were measured slower per row on these machines).
PIECE_ROWS = 4096
# Unconditional rows are made in pieces of up to this many rows. Several threads make rows at once (DuckDB's,
# or the worker threads of genesis_sql.generation), and only the numpy calls between Python lines run side by
# side: few large calls keep the share of time one thread holds the interpreter small (on diamonds, pieces
# of 8,192 rows gave two threads 1.2x one thread's rate, pieces of 65,536 1.45x, at equal speed on one).
UNCONDITIONAL_PIECE_ROWS = 65_536
# Tries a row gets to keep the model's rules before the rules repair it. Every training row keeps them, so
# a try breaks them rarely (a few percent) and four tries leave next to nothing to repair; where a relation
# is tight (a column a little below another), the repair bounds the cost at about 1.6 draws per row.
RULE_TRIES = 4
# Conditional rows are made in rounds of tries, each round with a fixed cost: they are made in pieces this
# many times larger (a 1% condition between two columns ran at 0.14x unconditional speed in single pieces,
# 0.23x in pieces of four; more gained nothing).
CONDITION_PIECES = 4


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
    # Relations every generated row keeps, and entity keys (genesis_sql.rules); set after fit, stored in state.
    rules_: RuleSet = RuleSet()
    # Value pairs of few-valued columns that training rows show (genesis_sql.models._seen); set after fit,
    # stored in state. None for DP models (they read nothing outside their mechanism) and older models.
    seen_: SeenPairs | None = None

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

    def draw_kept(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> tuple[pa.Table, np.ndarray]:
        """Candidates as :meth:`draw` makes them, with derived columns computed from the model's rules, and
        whether each keeps every rule (samplers accept only those)."""
        return self.rules_.apply(self.draw(rows, attempts, key))

    def sample_rows(self, rows: np.ndarray, *, key: int, conditions: ConditionSet | None = None) -> pa.Table:
        """Output rows ``rows`` (int64 indices) of the stream ``key``, satisfying ``conditions`` if given.

        Every row keeps the model's rules; entity keys are made fresh per block of output rows.
        """
        check_is_fitted(self)
        rows = np.asarray(rows, dtype=np.int64)
        if self.rules_.entities and not self.entity_rows:
            return self._sample_entities(rows, key, conditions)
        return self._sample_pieces(rows, key, conditions)

    def _sample_pieces(self, rows: np.ndarray, key: int, conditions: ConditionSet | None) -> pa.Table:
        unconditional = conditions is None or conditions.is_empty
        step = max(self.piece_rows, UNCONDITIONAL_PIECE_ROWS) if unconditional else self.piece_rows * CONDITION_PIECES
        if rows.size > step:
            return pa.concat_tables([self._sample_piece(rows[i:i + step], key, conditions)
                                     for i in range(0, rows.size, step)])
        return self._sample_piece(rows, key, conditions)

    def _sample_piece(self, rows: np.ndarray, key: int, conditions: ConditionSet | None) -> pa.Table:
        if conditions is None or conditions.is_empty:
            return self._kept(rows, key) if self.rules_.rules else self.draw(rows, np.zeros(rows.size, np.int64), key)
        try:
            return self.draw_conditional(rows, key, conditions)
        except NotImplementedError:
            from genesis_sql.conditions.sampling import GuidedConditionalSampler

            return GuidedConditionalSampler(self, "iterative").sample(rows, key, conditions)

    def _kept(self, rows: np.ndarray, key: int) -> pa.Table:
        """Unconditional rows that keep every rule: each the first of its tries that does, else repaired
        after RULE_TRIES tries."""
        table, ok = self.draw_kept(rows, np.zeros(rows.size, dtype=np.int64), key)
        if ok.all():
            return table
        pieces, positions = [table.filter(pa.array(ok))], [np.flatnonzero(ok)]
        pending = np.flatnonzero(~ok)
        last = table.filter(pa.array(~ok))
        for attempt in range(1, RULE_TRIES):
            if not pending.size:
                break
            table, ok = self.draw_kept(rows[pending], np.full(pending.size, attempt, dtype=np.int64), key)
            pieces.append(table.filter(pa.array(ok)))
            positions.append(pending[ok])
            last = table.filter(pa.array(~ok))
            pending = pending[~ok]
        if pending.size:
            pieces.append(self.rules_.repair(last))
            positions.append(pending)
        order = np.argsort(np.concatenate(positions), kind="stable")
        return pa.concat_tables(pieces).combine_chunks().take(pa.array(order))

    def _sample_entities(self, rows: np.ndarray, key: int, conditions: ConditionSet | None) -> pa.Table:
        """Rows grouped into fresh entities, a whole block of output rows at a time (genesis_sql.rules.entity)."""
        pieces = []
        for block in np.unique(rows // BLOCK_ROWS):
            first = int(block) * BLOCK_ROWS
            table = self._entity_block(first, key, conditions)
            inside = rows[(rows >= first) & (rows < first + BLOCK_ROWS)] - first
            pieces.append(table.take(pa.array(inside)))
        if not pieces:
            return self._sample_pieces(rows, key, conditions)
        return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]

    def _entity_block(self, first: int, key: int, conditions: ConditionSet | None) -> pa.Table:
        ident = (first, key, conditions.to_sql() if conditions is not None else "")
        cached = self.__dict__.get("_last_block")
        if cached is not None and cached[0] == ident:
            return cached[1]
        table = self._sample_pieces(np.arange(first, first + BLOCK_ROWS, dtype=np.int64), key, conditions)
        for entity in self.rules_.entities:
            table = entity.assign(table, first, key)
        self.__dict__["_last_block"] = (ident, table)
        return table

    @property
    def output_schema(self) -> pa.Schema:
        """The Arrow schema of generated rows."""
        check_is_fitted(self)
        return pa.schema([(c.name, arrow_type(output_type(c.sql_type))) for c in self.columns_])

    def attached_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What was attached after fit (rules, seen pairs) as state entries and arrays, for ``to_state``."""
        state: dict[str, Any] = {"rules": self.rules_.to_dict()}
        arrays: dict[str, np.ndarray] = {}
        if self.seen_ is not None:
            state["seen"], seen_arrays = self.seen_.to_state()
            arrays = {f"seen.{k}": v for k, v in seen_arrays.items()}
        return state, arrays

    def restore_attached(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> BaseSynthesizer:
        """Attach the rules and seen pairs stored in ``state`` and ``arrays`` (none for a model stored before
        they existed); returns self."""
        self.rules_ = RuleSet.from_dict(state.get("rules"))
        if "seen" in state:
            self.seen_ = SeenPairs.from_state(state["seen"], {k[5:]: v for k, v in arrays.items()
                                                              if k.startswith("seen.")})
        return self

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Learned state as JSON-able metadata plus named numeric arrays (with :meth:`attached_state`)."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> BaseSynthesizer:
        """Rebuild a fitted synthesizer from :meth:`to_state` output."""
        raise NotImplementedError
