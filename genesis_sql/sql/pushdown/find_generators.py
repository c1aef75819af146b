"""Rule: find every ``genesis_generate(model, n, ...)`` call whose model is known, with its columns."""
from __future__ import annotations

from sqlglot import exp

from genesis_sql.sql.pushdown._state import GENERATOR, Generator, Rewrite


def find_generators(rewrite: Rewrite) -> Rewrite:
    """Record the generator calls; a call whose model cannot be resolved is left for the planner to reject."""
    if rewrite.expression is None:
        return rewrite
    for call in rewrite.expression.find_all(exp.Anonymous):
        if call.name.lower() != GENERATOR or not isinstance(call.parent, exp.Table):
            continue
        args = call.expressions
        if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
            continue
        columns = rewrite.columns_of(args[0].this)
        if columns:
            rewrite.generators.append(Generator(call, args[0].this, columns))
    return rewrite
