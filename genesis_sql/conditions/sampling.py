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
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from genesis_sql.conditions.condition import ConditionSet
from genesis_sql.models.feasibility import refuse_impossible, suggest_alternative, with_rule_atoms
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
# When the pilot sees no row meet a condition, more rows are drawn, up to these many or this many seconds,
# before the condition is refused: feasibility is decided in bounded time at any n.
EXTENDED_PILOT_ROWS = 1_048_576
EXTENDED_PILOT_SECONDS = 4.0
# Long generation logs its progress at most this often.
PROGRESS_SECONDS = 2.0
log = logging.getLogger(__name__)

# (candidate rows, tries) -> (candidate table, whether the proposal itself accepts each candidate)
Proposal = Callable[[np.ndarray, np.ndarray], tuple[pa.Table, np.ndarray]]


@dataclass(frozen=True)
class Feasibility:
    """How likely a condition is under a model, and how often the chosen proposal is accepted."""

    probability: float
    upper_bound: float
    acceptance: float
    seen: int = 1
    tried: int = PILOT_ROWS
    alternative: str = ""

    def check(self, conditions: ConditionSet, unseen: Sequence[str] = ()) -> None:
        """Raise :class:`RareConditionError` when even the upper bound is below MIN_PROBABILITY, or when no
        draw of the extended pilot met the condition (generation would not end in bounded time).

        ``unseen`` notes what the condition asks for that training never showed; the error repeats them.
        """
        if self.upper_bound < MIN_PROBABILITY or self.seen == 0:
            shown = (f"{self.probability:.2e}" if self.probability > 0 else
                     f"below {self.upper_bound:.1e}" if self.upper_bound > 0 else "0")
            hint = f" The closest condition this model can meet: {self.alternative}." if self.alternative else ""
            never = f" Never seen in training: {'; '.join(unseen)}." if unseen else ""
            raise RareConditionError(
                f"Condition {conditions.to_sql()} has estimated probability {shown} under this model (met by "
                f"{self.seen:,} of {self.tried:,} draws), below the {MIN_PROBABILITY:g} floor; relax it or fit a "
                f"model on data where it is common.{never}{hint}")


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
    started = reported = time.monotonic()
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
        now = time.monotonic()
        if pending.size and now - reported >= PROGRESS_SECONDS:
            reported = now
            log.info("conditional generation: %d of %d rows met %s after %.0fs (acceptance %.1e)",
                     rows.size - pending.size, rows.size, conditions.to_sql(), now - started, rate)
        if pending.size and next_try[pending].min() >= max_tries:
            raise RareConditionError(
                f"Condition {conditions.to_sql()} was met by no row in {max_tries:,} tries (acceptance "
                f"estimated at {acceptance:.2e}); it is too rare for this model.")
    order = np.argsort(np.concatenate(owners), kind="stable")
    return pa.concat_tables(pieces).combine_chunks().take(pa.array(order))


def _unconditional(model: Drawing, key: int) -> Proposal:
    def propose(rows: np.ndarray, attempts: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        return model.draw_kept(rows, attempts, key)
    return propose


def _kept_proposal(model: BaseSynthesizer, proposal, key: int) -> Proposal:
    """A model's proposal with the model's rules applied to its candidates (derived columns computed)."""
    def propose(rows: np.ndarray, attempts: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        table, accepted = proposal.propose(rows, attempts, key)
        table, kept = model.rules_.apply(table)
        return table, np.asarray(accepted, dtype=bool) & kept
    return propose


def _pilot_hits(model: BaseSynthesizer, conditions: ConditionSet, first: int, count: int) -> np.ndarray:
    rows = np.arange(first, first + count, dtype=np.int64)
    table, kept = model.draw_kept(rows, np.zeros(count, dtype=np.int64), _PILOT_KEY)
    return kept & conditions.mask(table)


class ConditionalSampler:
    """Rejection sampling from a model's unconditional draws.

    Args:
        model: a fitted synthesizer.
    """

    def __init__(self, model: Drawing) -> None:
        self.model = model

    def estimate_feasibility(self, conditions: ConditionSet) -> Feasibility:
        """The condition's probability under the model, from a seeded pilot sample of its (rule-keeping)
        draws; when the pilot sees no hit, more rows are drawn for a bounded time before giving up."""
        hits = int(_pilot_hits(self.model, conditions, 0, PILOT_ROWS).sum())
        tried = PILOT_ROWS
        started = time.monotonic()
        while hits == 0 and tried < EXTENDED_PILOT_ROWS and time.monotonic() - started < EXTENDED_PILOT_SECONDS:
            count = min(8 * PILOT_ROWS, EXTENDED_PILOT_ROWS - tried)
            hits += int(_pilot_hits(self.model, conditions, tried, count).sum())
            tried += count
        p = hits / tried
        upper = min(1.0, (hits + 3.0) / tried)  # rule of three when nothing was seen
        alternative = "" if hits else suggest_alternative(conditions, self.model.draw_kept(
            np.arange(PILOT_ROWS, dtype=np.int64), np.zeros(PILOT_ROWS, dtype=np.int64), _PILOT_KEY)[0])
        return Feasibility(p, upper, p if p > 0 else upper / 3, hits, tried, alternative)

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
        guided = with_rule_atoms(self.model.rules_, conditions)
        proposal = self._proposer(guided)
        use_rejection = proposal is None or (self.strategy == "auto" and feasibility.probability >= REJECTION_ENOUGH)
        if use_rejection:
            return first_accepted(_unconditional(self.model, key), rows, conditions,
                                  acceptance=feasibility.probability or feasibility.acceptance)
        if not self.model.rules_.rules:
            return first_accepted(lambda r, a: proposal.propose(r, a, key), rows, conditions,
                                  acceptance=feasibility.acceptance, check=proposal.region.residual)
        # Derived columns are recomputed after the proposal: the whole condition is checked again.
        return first_accepted(_kept_proposal(self.model, proposal, key), rows, guided,
                              acceptance=feasibility.acceptance)


def _feasibility(model: Drawing, conditions: ConditionSet, strategy: str) -> Feasibility:
    """Cached per model and canonical condition (estimating costs a pilot sample)."""
    return _cached_feasibility(id(model), model, conditions.to_sql(), conditions, strategy)


@functools.lru_cache(maxsize=512)
def _cached_feasibility(model_id: int, model: Drawing, text: str, conditions: ConditionSet,
                        strategy: str) -> Feasibility:
    refuse_impossible(conditions, model)
    feasibility = _estimate(model, conditions, strategy)
    if feasibility.seen == 0:
        _name_broken_rule(model, conditions)
    return feasibility


def _estimate(model: BaseSynthesizer, conditions: ConditionSet, strategy: str) -> Feasibility:
    factory = getattr(model, "condition_proposal", None)
    if factory is None or strategy == "iterative":
        return ConditionalSampler(model).estimate_feasibility(conditions)
    guided = with_rule_atoms(model.rules_, conditions)
    proposal = factory(guided)
    if proposal.is_empty:
        rules = [r.to_sql() for r in model.rules_.derived if guided is not conditions
                 and set(r.columns) & conditions.columns]
        because = f" together with the rules {'; '.join(rules)}" if rules else ""
        raise InfeasibleConditionError(f"Condition {conditions.to_sql()} cannot be met by this model{because}: "
                                       "its allowed values have no probability mass.")
    rows = np.arange(PILOT_ROWS, dtype=np.int64)
    candidates, weights, accepted = proposal.propose_weighted(rows, np.zeros(PILOT_ROWS, dtype=np.int64), _PILOT_KEY)
    if model.rules_.rules:
        candidates, kept = model.rules_.apply(candidates)
        holds = kept & guided.mask(candidates)
    else:
        holds = proposal.region.residual.mask(candidates)
    # P(condition) = P(first constrained set) * E[weight * residual holds] under the proposal.
    p = proposal.first_mass * float(np.mean(weights * holds))
    seen = int(holds.sum())
    upper = p if seen >= 30 else proposal.first_mass * min(1.0, float(np.mean(weights * holds)) + 3.0 / PILOT_ROWS)
    kept = accepted & holds
    acceptance = float(kept.mean()) if kept.any() else min(1.0, 3.0 / PILOT_ROWS)
    if seen == 0:
        # The proposal met nothing: let the plain draws decide, with their extended pilot.
        return ConditionalSampler(model).estimate_feasibility(conditions)
    return Feasibility(p, upper, acceptance, seen, PILOT_ROWS)


def _name_broken_rule(model: BaseSynthesizer, conditions: ConditionSet) -> None:
    """Raise InfeasibleConditionError naming the rule a condition contradicts: rows drawn without the
    rules meet the condition, but none of them also keeps that rule."""
    if not model.rules_.rules:
        return
    rows = np.arange(PILOT_ROWS, dtype=np.int64)
    raw = model.draw(rows, np.zeros(PILOT_ROWS, dtype=np.int64), _PILOT_KEY)
    derived = model.rules_.derive(raw)
    for table in (raw, derived):
        meets = conditions.mask(table)
        if not meets.any():
            continue
        met = table.filter(pa.array(meets))
        for rule in model.rules_.rules:
            if table is raw and rule in model.rules_.derived:
                holds = rule.holds(met)
            elif table is derived and rule not in model.rules_.derived:
                holds = rule.holds(met)
            else:
                continue
            if not holds.any():
                raise InfeasibleConditionError(
                    f"Condition {conditions.to_sql()} contradicts the rule {rule.to_sql()}, which every training "
                    f"row keeps and every generated row keeps; drop that part of the condition.")
