"""The generation path: plan (a validated request) -> batches (the one plan-to-Arrow loop) -> sinks.

Every way of generating rows (the SQL functions, the Python API, materialisation, streaming) builds a
:class:`GenerationPlan` with :func:`plan_generation` and gets its rows from :mod:`.batches`. Process-wide
state (synthesizers, plans, drawn seeds, worker threads, registered functions) is the one
:data:`RUNTIME`.
"""
from genesis_sql.generation.batches import BlockCache, generate_batches, make_rows, plain_columns, stream_batches
from genesis_sql.generation.plan import (
    GenerationPlan,
    cached_synthesizer,
    last_seed,
    plan_generation,
    validate_n,
    validate_seed,
)
from genesis_sql.generation.runtime import RUNTIME, Runtime
from genesis_sql.generation.sinks import record, to_table

__all__ = [
    "RUNTIME",
    "BlockCache",
    "GenerationPlan",
    "Runtime",
    "cached_synthesizer",
    "generate_batches",
    "last_seed",
    "make_rows",
    "plain_columns",
    "plan_generation",
    "record",
    "stream_batches",
    "to_table",
    "validate_n",
    "validate_seed",
]
