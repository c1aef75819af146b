"""Samplers that turn a model's draws into rows satisfying a condition, deterministically per row.

Output row r is always the first of its own tries (r, 0), (r, 1), ... that is accepted, so rows do not
depend on batch sizes or threads. Tries are made many at a time, sized from the acceptance rate seen so
far (iterative refinement), and every loop is bounded.

- :class:`ConditionalSampler`: plain rejection from unconditional draws, with
  :meth:`~ConditionalSampler.estimate_feasibility` measured on the model.
- :class:`GuidedConditionalSampler`: ``iterative`` (rejection in batches sized from the running
  acceptance rate) or ``importance`` (the model proposes rows inside the condition's region with
  known weights, and weight-proportional acceptance restores the exact conditional distribution; the
  Gaussian copula does this in its latent space). ``auto`` picks by the feasibility estimate.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from genesis_sql.conditions.condition import ConditionSet
from genesis_sql.errors import InfeasibleConditionError, InvalidArgumentError, RareConditionError


class Drawing(Protocol):
    """What the samplers need of a model (``models.base.BaseSynthesizer`` provides it): unconditional
    candidates per (row, try). A model may also offer ``condition_proposal(conditions)``, an object that
    proposes rows inside the condition's region with known weights (the copula does); it is optional."""

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        """Candidates for output ``rows`` at retry numbers ``attempts`` of the stream ``key``."""


# Candidate rows generated per round at most (bounds memory).
MAX_CANDIDATES_PER_ROUND = 131_072
# Conditions less likely than this are refused (DESIGN.md "Feasibility").
MIN_PROBABILITY = 1e-6
# Rows of the pilot sample that estimates feasibility.
PILOT_ROWS = 8192
# A row fails all its tries with probability below exp(-TRY_BUDGET).
TRY_BUDGET = 25.0
# Above this estimated probability, plain rejection is as cheap as anything smarter.
REJECTION_ENOUGH = 0.2
_PILOT_KEY = 0x5EED_F00D

# (candidate rows, tries) -> (candidate table, whether the proposal itself accepts each candidate)
Proposal = Callable[[np.ndarray, np.ndarray], tuple[pa.Table, np.ndarray]]


@dataclass(frozen=True)
class Feasibility:
    """How likely a condition is under a model, and how often the chosen proposal is accepted."""

    probability: float
    upper_bound: float
    acceptance: float

    def check(self, conditions: ConditionSet) -> None:
        """Raise :class:`RareConditionError` when even the upper bound is below MIN_PROBABILITY."""
        if self.upper_bound < MIN_PROBABILITY:
            shown = f"{self.probability:.2e}" if self.probability > 0 else f"below {self.upper_bound:.1e}"
            raise RareConditionError(
                f"Condition {conditions.to_sql()} has estimated probability {shown} under this model, below "
                f"the {MIN_PROBABILITY:g} floor; relax it or fit a model on data where it is common.")


def first_accepted(propose: Proposal, rows: np.ndarray, conditions: ConditionSet, *, acceptance: float,
                   check: ConditionSet | None = None) -> pa.Table:
    """Rows ``rows``: each the first of its tries that the proposal accepts and the condition holds for.

    ``check`` is the part of ``conditions`` the proposal does not already guarantee (all of it by default).
    """
    check = conditions if check is None else check
    if rows.size == 0:
        return propose(rows, np.zeros(0, dtype=np.int64))[0]
    max_tries = int(math.ceil(TRY_BUDGET / max(acceptance, MIN_PROBABILITY / 10)))
    pieces: list[pa.Table] = []
    owners: list[np.ndarray] = []
    pending = np.arange(rows.size)
    next_try = np.zeros(rows.size, dtype=np.int64)
    rate = max(acceptance, 1e-9)
    while pending.size:
        # Few rows left: try generously, since each round has a fixed cost.
        wanted = 1.0 / rate if pending.size > 256 else 5.0 / rate
        tries = int(min(max(round(wanted), 1), max(MAX_CANDIDATES_PER_ROUND // pending.size, 1)))
        owner = np.repeat(pending, tries)
        attempt = np.repeat(next_try[pending], tries) + np.tile(np.arange(tries), pending.size)
        candidates, proposal_ok = propose(rows[owner], attempt)
        ok = proposal_ok & check.mask(candidates)
        rate = max(ok.mean(), 0.5 / ok.size, rate / 4) if ok.size else rate
        hits = np.flatnonzero(ok)
        first_owner, first_pos = np.unique(owner[hits], return_index=True)
        if first_owner.size:
            pieces.append(candidates.take(pa.array(hits[first_pos])))
            owners.append(first_owner)
        next_try[pending] += tries
        done = np.zeros(rows.size, dtype=bool)
        done[first_owner] = True
        pending = pending[~done[pending]]
        if pending.size and next_try[pending].min() >= max_tries:
            raise RareConditionError(
                f"Condition {conditions.to_sql()} was met by no row in {max_tries:,} tries (acceptance "
                f"estimated at {acceptance:.2e}); it is too rare for this model.")
    order = np.argsort(np.concatenate(owners), kind="stable")
    return pa.concat_tables(pieces).combine_chunks().take(pa.array(order))


def _unconditional(model: Drawing, key: int) -> Proposal:
    def propose(rows: np.ndarray, attempts: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        return model.draw(rows, attempts, key), np.ones(rows.size, dtype=bool)
    return propose


class ConditionalSampler:
    """Rejection sampling from a model's unconditional draws.

    Args:
        model: a fitted synthesizer.
    """

    def __init__(self, model: Drawing) -> None:
        self.model = model

    def estimate_feasibility(self, conditions: ConditionSet) -> Feasibility:
        """The condition's probability under the model, from a seeded pilot sample of its draws."""
        rows = np.arange(PILOT_ROWS, dtype=np.int64)
        hits = conditions.mask(self.model.draw(rows, np.zeros(PILOT_ROWS, dtype=np.int64), _PILOT_KEY))
        p = float(hits.mean())
        upper = min(1.0, (hits.sum() + 3.0) / PILOT_ROWS)  # rule of three when nothing was seen
        return Feasibility(p, upper, p if p > 0 else upper / 3)

    def sample(self, rows: np.ndarray, key: int, conditions: ConditionSet, *,
               feasibility: Feasibility | None = None) -> pa.Table:
        """Rows ``rows`` of the conditional stream ``key``."""
        feasibility = feasibility or self.estimate_feasibility(conditions)
        return first_accepted(_unconditional(self.model, key), rows, conditions, acceptance=feasibility.acceptance)


class GuidedConditionalSampler:
    """Conditional sampling guided by the model (see the module docstring).

    Args:
        model: a fitted synthesizer; ``importance`` needs one with ``condition_proposal`` (the copula).
        strategy: ``"auto"``, ``"iterative"`` or ``"importance"``.
    """

    STRATEGIES = ("auto", "iterative", "importance")

    def __init__(self, model: Drawing, strategy: str = "auto") -> None:
        self.model = model
        self.strategy = strategy

    def _proposer(self, conditions: ConditionSet):
        if self.strategy not in self.STRATEGIES:
            raise InvalidArgumentError(f"Unknown strategy {self.strategy!r}; use one of {', '.join(self.STRATEGIES)}.")
        factory = getattr(self.model, "condition_proposal", None)
        if self.strategy == "iterative" or factory is None:
            if self.strategy == "importance":
                raise InvalidArgumentError(f"{type(self.model).__name__} cannot propose rows inside a condition; "
                                           "use strategy='iterative'.")
            return None
        return factory(conditions)

    def estimate_feasibility(self, conditions: ConditionSet) -> Feasibility:
        """The condition's probability under the model, computed from the model's own proposal when it has one."""
        return _feasibility(self.model, conditions, self.strategy)

    def sample(self, rows: np.ndarray, key: int, conditions: ConditionSet) -> pa.Table:
        """Rows ``rows`` of the conditional stream ``key``."""
        feasibility = self.estimate_feasibility(conditions)
        proposal = self._proposer(conditions)
        use_rejection = proposal is None or (self.strategy == "auto" and feasibility.probability >= REJECTION_ENOUGH)
        if use_rejection:
            return first_accepted(_unconditional(self.model, key), rows, conditions,
                                  acceptance=feasibility.probability or feasibility.acceptance)
        return first_accepted(lambda r, a: proposal.propose(r, a, key), rows, conditions,
                              acceptance=feasibility.acceptance, check=proposal.region.residual)


def _feasibility(model: Drawing, conditions: ConditionSet, strategy: str) -> Feasibility:
    """Cached per model and canonical condition (estimating costs a pilot sample)."""
    return _cached_feasibility(id(model), model, conditions.to_sql(), conditions, strategy)


@functools.lru_cache(maxsize=512)
def _cached_feasibility(model_id: int, model: Drawing, text: str, conditions: ConditionSet,
                        strategy: str) -> Feasibility:
    factory = getattr(model, "condition_proposal", None)
    if factory is None or strategy == "iterative":
        return ConditionalSampler(model).estimate_feasibility(conditions)
    proposal = factory(conditions)
    if proposal.is_empty:
        raise InfeasibleConditionError(f"Condition {conditions.to_sql()} cannot be met by this model: "
                                       "its allowed values have no probability mass.")
    rows = np.arange(PILOT_ROWS, dtype=np.int64)
    candidates, weights, accepted = proposal.propose_weighted(rows, np.zeros(PILOT_ROWS, dtype=np.int64), _PILOT_KEY)
    holds = proposal.region.residual.mask(candidates)
    # P(condition) = P(first constrained set) * E[weight * residual holds] under the proposal.
    p = proposal.first_mass * float(np.mean(weights * holds))
    seen = int(holds.sum())
    upper = p if seen >= 30 else proposal.first_mass * min(1.0, float(np.mean(weights * holds)) + 3.0 / PILOT_ROWS)
    kept = accepted & holds
    acceptance = float(kept.mean()) if kept.any() else min(1.0, 3.0 / PILOT_ROWS)
    return Feasibility(p, upper, acceptance)
