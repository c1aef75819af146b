"""Rule: find every ``genesis_generate(model, n, ...)`` call whose model is known, with its columns."""
from __future__ import annotations

from sqlglot import exp

from genesis_sql.sql.pushdown._state import GENERATOR, Generator, Rewrite


def find_generators(rewrite: Rewrite) -> Rewrite:
    """Record the generator calls; a call whose model cannot be resolved is left for the planner to reject.

    Each call keeps its place in reading order, which is how the rewritten text finds it again.
    """
    if rewrite.expression is None:
        return rewrite
    calls = sorted((c for c in rewrite.expression.find_all(exp.Anonymous) if c.name.lower() == GENERATOR),
                   key=lambda c: c.meta.get("start", -1))
    for index, call in enumerate(calls):
        if not isinstance(call.parent, exp.Table):
            continue
        args = call.expressions
        if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
            continue
        columns = rewrite.columns_of(args[0].this)
        if columns:
            rewrite.generators.append(Generator(call, args[0].this, columns, index))
    return rewrite
