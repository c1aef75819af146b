"""Validating a generation request and resolving it to a stream: the step both SQL and Python share.

A :class:`GenerationPlan` names the exact model version, n, seed and canonical condition, and derives
the stream key from them (DESIGN.md "Determinism": rows are a function of the model version's content
hash, the seed, the canonical condition and the row index). Building one validates everything, so bad
input fails before any row is made and before any SQL is built.
"""
from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass

import duckdb
import numpy as np

from genesis_sql.catalog import load_model, resolve_version, restore_synthesizer
from genesis_sql.conditions import ConditionSet, bind, parse_condition
from genesis_sql.models.feasibility import check_support, unseen_notes
from genesis_sql.conditions.sampling import GuidedConditionalSampler
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.generation.runtime import RUNTIME
from genesis_sql.models._random import derive_key
from genesis_sql.models.base import BaseSynthesizer
from genesis_sql.schema import ColumnSpec

log = logging.getLogger(__name__)

# More rows than this in one request is treated as a mistake rather than a plan.
MAX_ROWS = 10**11
MAX_SEED = 2**63 - 1


def cached_synthesizer(con: duckdb.DuckDBPyConnection, name: str, version: int, content_hash: str) -> BaseSynthesizer:
    """The fitted synthesizer of one stored version, loaded once per process (keyed by content hash)."""
    def load() -> BaseSynthesizer:
        return restore_synthesizer(load_model(con, f"{name}@{version}"))

    return RUNTIME.synthesizer(content_hash, load)


def validate_n(n: object) -> int:
    """A row count: a non-negative integer up to MAX_ROWS."""
    if isinstance(n, str):
        text = n.strip()
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not value.is_integer():
            raise InvalidArgumentError(f"n must be a whole number of rows, such as 1000. Got {n!r}.")
        n = int(value)
    if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidArgumentError(f"n must be a whole number of rows, such as 1000. Got {n!r}.")
    if n < 0:
        raise InvalidArgumentError(f"n must be zero or more rows. Got {n}.")
    if n > MAX_ROWS:
        raise InvalidArgumentError(f"n = {n:,} is more than {MAX_ROWS:,} rows in one request; ask in parts.")
    return int(n)


def validate_seed(seed: object) -> int | None:
    """A seed: None (draw one) or an integer in [0, 2**63 - 1]."""
    if seed is None:
        return None
    if isinstance(seed, str):
        try:
            seed = int(seed.strip())
        except ValueError:
            raise InvalidArgumentError(
                f"seed must be a whole number in [0, 2**63 - 1] or NULL. Got {seed!r}.") from None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InvalidArgumentError(f"seed must be a whole number in [0, 2**63 - 1] or NULL. Got {seed!r}.")
    return int(seed)


def last_seed(model: str | None = None) -> int | None:
    """The seed drawn for the most recent request with ``seed`` NULL (of ``model``, or of any model)."""
    return RUNTIME.last_seed(model)


@dataclass(frozen=True)
class GenerationPlan:
    """A validated request: which rows of which stream."""

    name: str
    version: int
    content_hash: str
    n: int
    seed: int
    conditions: ConditionSet
    seed_was_drawn: bool = False
    # Worker threads that produce the rows (DuckDB's ``threads`` setting); never changes which rows.
    threads: int = 1

    @functools.cached_property
    def condition_sql(self) -> str:
        """The canonical condition ('' for none)."""
        return self.conditions.to_sql()

    @functools.cached_property
    def key(self) -> int:
        """The stream key: model content, seed and canonical condition."""
        return derive_key(self.content_hash, self.seed, self.condition_sql)

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


def plan_generation(con: duckdb.DuckDBPyConnection, model: object, n: object, *, seed: object = None,
                    condition: str | ConditionSet | None = None) -> tuple[GenerationPlan, BaseSynthesizer]:
    """Validate a generation request against the catalog and return its plan and synthesizer.

    The plan's worker threads follow ``con``'s DuckDB ``threads`` setting.

    Raises:
        InvalidArgumentError, ModelNotFoundError, ConditionError (and subclasses): bad input, named.
    """
    name, version, content_hash = resolve_version(con, model)
    rows = validate_n(n)
    chosen = validate_seed(seed)
    synthesizer = cached_synthesizer(con, name, version, content_hash)
    conditions = resolve_conditions(condition, synthesizer.columns_)
    if not conditions.is_empty:
        synthesizer.check_conditions(conditions)
        check_support(conditions, getattr(synthesizer, "codecs_", []))
        unseen = tuple(unseen_notes(conditions, synthesizer))
        _log_unseen(name, content_hash, conditions.to_sql(), unseen)
        GuidedConditionalSampler(synthesizer).estimate_feasibility(conditions).check(conditions, unseen)
    drawn = chosen is None
    if drawn:
        chosen = secrets.randbelow(2**31)
        RUNTIME.note_seed(name, chosen)
        log.info("genesis_generate(%r): drew seed %d", name, chosen)
    plan = GenerationPlan(name, version, content_hash, rows, chosen, conditions, drawn, duckdb_threads(con))
    return plan, synthesizer


@functools.lru_cache(maxsize=1024)
def _log_unseen(name: str, content_hash: str, condition: str, notes: tuple[str, ...]) -> None:
    """Log what a condition asks for that training never showed, once per model version and condition in a
    process (DuckDB binds a generator call more than once per query)."""
    for note in notes:
        log.warning("genesis_generate(%r): condition %s asks for what training never showed: %s", name, condition,
                    note)


def condition_notes(con: duckdb.DuckDBPyConnection, model: object, condition: str | ConditionSet) -> list[str]:
    """What ``condition`` asks of ``model`` that training never showed (genesis_sql.models.feasibility
    .unseen_notes), for ``explain``; invalid or infeasible conditions raise as planning does."""
    name, version, content_hash = resolve_version(con, model)
    synthesizer = cached_synthesizer(con, name, version, content_hash)
    conditions = resolve_conditions(condition, synthesizer.columns_)
    check_support(conditions, getattr(synthesizer, "codecs_", []))
    return unseen_notes(conditions, synthesizer)


def resolve_conditions(condition: str | ConditionSet | None, columns: list[ColumnSpec]) -> ConditionSet:
    """Canonical conditions from SQL text, a ConditionSet, or nothing."""
    if condition is None:
        return ConditionSet()
    if isinstance(condition, ConditionSet):
        return bind(condition, columns)
    if isinstance(condition, str):
        return parse_condition(condition, columns)
    raise InvalidArgumentError(f"condition must be SQL text or a ConditionSet. Got {type(condition).__name__}.")


def duckdb_threads(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's ``threads`` setting on ``con``: how many threads may work on one request."""
    return max(1, int(con.execute("SELECT current_setting('threads')").fetchall()[0][0]))
