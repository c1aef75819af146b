"""Rule: write each generator's pushed conjuncts into its ``condition :=`` argument (AND-ed with any given)."""
from __future__ import annotations

from sqlglot import exp

from genesis_sql.sql.pushdown._state import Pushed, Rewrite, Skipped


def push_conjuncts(rewrite: Rewrite) -> Rewrite:
    """Rewrite the generator calls; the original WHERE stays, so results stay correct either way."""
    for generator in rewrite.generators:
        if not generator.pushed:
            continue
        parts = [p.sql(dialect="duckdb", comments=False) for p in generator.pushed]
        existing = generator.given_condition()
        if existing is not None:
            given = existing.expression
            if not (isinstance(given, exp.Literal) and given.is_string):
                continue
            parts.insert(0, given.this)
        condition = " AND ".join(f"({p})" for p in dict.fromkeys(parts))
        generator.condition = condition
        literal = exp.Literal.string(condition)
        if existing is not None:
            existing.set("expression", literal)
        else:
            generator.call.append("expressions", exp.PropertyEQ(this=exp.to_identifier("condition"), expression=literal))
    for source, text, bound in rewrite.pushed_from:
        if source.generator.condition is not None:
            name = source.alias or source.generator.model
            rewrite.pushed.append(Pushed(source.generator.model, name, text, bound))
        else:
            rewrite.skipped.append(Skipped(text, "the generator's condition := is not a string literal"))
    return rewrite
