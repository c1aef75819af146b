"""Rejection sampling that stays deterministic per row: output row r is the first of its own tries
(r, 0), (r, 1), ... that satisfies the condition. Tries are made many at a time, sized from the
acceptance rate seen so far, and the number of tries per row is bounded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from genesis_sql.conditions.condition import ConditionSet
from genesis_sql.errors import RareConditionError

if TYPE_CHECKING:
    from genesis_sql.models.base import BaseSynthesizer

# Candidate rows generated per round at most (bounds memory).
MAX_CANDIDATES_PER_ROUND = 262_144
# Tries per output row at most: with p >= 1e-6 a row fails all of them with probability below 1e-8.
MAX_TRIES_PER_ROW = 20_000_000


def reject_sample(model: BaseSynthesizer, rows: np.ndarray, key: int, conditions: ConditionSet,
                  *, acceptance: float = 0.5) -> pa.Table:
    """Rows ``rows`` of the conditional stream: each the first of its tries that satisfies ``conditions``."""
    if rows.size == 0:
        return model.draw(rows, np.zeros(0, dtype=np.int64), key)
    pieces: list[pa.Table] = []
    owners: list[np.ndarray] = []
    pending = np.arange(rows.size)
    next_try = np.zeros(rows.size, dtype=np.int64)
    rate = max(acceptance, 1e-9)
    while pending.size:
        tries = int(min(max(np.ceil(3.0 / rate), 1), max(MAX_CANDIDATES_PER_ROUND // pending.size, 1)))
        owner = np.repeat(pending, tries)
        attempt = np.repeat(next_try[pending], tries) + np.tile(np.arange(tries), pending.size)
        candidates = model.draw(rows[owner], attempt, key)
        ok = conditions.mask(candidates)
        rate = max(ok.mean(), 0.5 / ok.size) if ok.size else rate
        # First accepted try per owner: positions are grouped by owner in increasing try order.
        hits = np.flatnonzero(ok)
        first_owner, first_pos = np.unique(owner[hits], return_index=True)
        take = hits[first_pos]
        if take.size:
            pieces.append(candidates.take(pa.array(take)))
            owners.append(first_owner)
        next_try[pending] += tries
        pending = np.setdiff1d(pending, first_owner, assume_unique=True)
        if pending.size and next_try[pending].min() >= MAX_TRIES_PER_ROW:
            raise RareConditionError(
                f"Condition {conditions.to_sql()} matched no row in {MAX_TRIES_PER_ROW:,} tries "
                f"(observed rate {rate:.2e}); it is too rare for this model.")
    order = np.argsort(np.concatenate(owners), kind="stable")
    return pa.concat_tables(pieces).combine_chunks().take(pa.array(order))
