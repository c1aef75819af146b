"""The process-wide state of genesis: one :class:`Runtime` object, thread-safe, that outlives any connection.

It owns the fitted synthesizers (keyed by model content hash), the generation plans handed to the row
functions by id, the seeds drawn for ``seed := NULL``, the worker threads that produce rows, and (as
``functions``) the registry of the Python functions every DuckDB database instance was given
(:mod:`genesis_sql._functions`). Nothing here holds a connection: closing every connection of a database
lets its file go.
"""
from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

from genesis_sql._functions import FUNCTIONS

T = TypeVar("T")

MODEL_CACHE_SIZE = 32
PLAN_CACHE_SIZE = 4096
# What plans were made of, kept far longer than the plans (a few hundred bytes each), so that a statement
# prepared long ago can still be run.
PLAN_REQUEST_CACHE_SIZE = 262_144
# Plan ids run from 1 to MAX_PLAN_ID and then start over (the row functions carry them in 26 bits).
MAX_PLAN_ID = (1 << 26) - 1


class PlanRequest(NamedTuple):
    """What a plan was made of: enough to make it again."""

    seed: int
    condition: str
    n: int


class Runtime:
    """Model and plan caches, registered functions and worker threads, shared by every connection."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._plans: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._requests: OrderedDict[int, PlanRequest] = OrderedDict()
        self._plan_ids = itertools.count(0)
        self._last_seed: dict[str, int] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.functions = FUNCTIONS

    # Models and plans ------------------------------------------------------------------------------

    def synthesizer(self, content_hash: str, load: Callable[[], Any]) -> Any:
        """The fitted synthesizer of a content hash: cached, else ``load()`` (outside the lock)."""
        model = self.peek_synthesizer(content_hash)
        if model is None:
            model = load()
            self.remember_synthesizer(content_hash, model)
        return model

    def peek_synthesizer(self, content_hash: str) -> Any:
        """The cached synthesizer of a content hash, or None."""
        with self._lock:
            model = self._models.get(content_hash)
            if model is not None:
                self._models.move_to_end(content_hash)
            return model

    def remember_synthesizer(self, content_hash: str, model: Any) -> None:
        """Cache a synthesizer (fit does this, so the first generation needs no load)."""
        with self._lock:
            self._models[content_hash] = model
            while len(self._models) > MODEL_CACHE_SIZE:
                self._models.popitem(last=False)

    def remember_plan(self, plan: Any, synthesizer: Any) -> int:
        """An id (1 .. MAX_PLAN_ID) by which the row function finds ``plan`` (handed over by identity)."""
        with self._lock:
            plan_id = next(self._plan_ids) % MAX_PLAN_ID + 1
            for cache, value, size in ((self._plans, (plan, synthesizer), PLAN_CACHE_SIZE),
                                       (self._requests, PlanRequest(plan.seed, plan.condition_sql, plan.n),
                                        PLAN_REQUEST_CACHE_SIZE)):
                cache.pop(plan_id, None)
                cache[plan_id] = value
                while len(cache) > size:
                    cache.popitem(last=False)
            return plan_id

    def plan(self, plan_id: int) -> tuple[Any, Any] | None:
        """The (plan, synthesizer) remembered under ``plan_id``, or None once it aged out."""
        with self._lock:
            return self._plans.get(plan_id)

    def plan_request(self, plan_id: int) -> PlanRequest | None:
        """What the plan ``plan_id`` was made of, or None once that aged out too."""
        with self._lock:
            return self._requests.get(plan_id)

    def note_seed(self, model: str, seed: int) -> None:
        """Remember a drawn seed (``genesis_last_seed()``)."""
        with self._lock:
            self._last_seed[model] = self._last_seed[""] = seed

    def last_seed(self, model: str | None = None) -> int | None:
        """The seed drawn for the latest request with seed NULL (of ``model``, or of any model)."""
        with self._lock:
            return self._last_seed.get(model or "")

    # Worker threads --------------------------------------------------------------------------------

    def map(self, work: Callable[[T], Any], items: list[T]) -> list[Any]:
        """``work`` over ``items`` on the shared worker threads, results in order."""
        if len(items) <= 1:
            return [work(item) for item in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),
                                                thread_name_prefix="genesis-rows")
            pool = self._pool
        return list(pool.map(work, items))


RUNTIME = Runtime()
