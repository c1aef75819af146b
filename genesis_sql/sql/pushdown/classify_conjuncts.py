"""Rule: split each WHERE over generator sources into conjuncts and decide, for each, where it can go.

A conjunct is pushed when, with its bound parameters' values in place, it is within the condition
grammar, references exactly one generator source that is not blocked and not null-supplying, and every
column it uses maps onto the generator. Anything else stays a plain filter, with the reason recorded for
``explain``.
"""
from __future__ import annotations

from sqlglot import exp

from genesis_sql.conditions import parse_condition
from genesis_sql.conditions.grammar import split_conjuncts
from genesis_sql.errors import ConditionError
from genesis_sql.sql.pushdown._state import Rewrite, Skipped, Source
from genesis_sql.sql.pushdown.parameters import bind


def _owner(column: exp.Column, sources: list[Source], others: list[str]) -> Source | str | None:
    """The source a column reference belongs to, the name of a non-generator relation, or None if unclear."""
    qualifier = column.table.lower() if column.table else ""
    if qualifier:
        for source in sources:
            if source.alias == qualifier:
                return source
        return qualifier if qualifier in others else None
    candidates = [s for s in sources if column.name.lower() in s.column_map]
    if len(candidates) == 1 and not others:
        return candidates[0]
    if len(candidates) == 1 and others:
        return None
    return others[0] if not candidates and others else None


def _classify(conjunct: exp.Expression, sources: list[Source], others: list[str]) -> tuple[Source | None, str]:
    if conjunct.find(exp.Subquery, exp.Select, exp.Exists):
        return None, "subquery"
    owners = {id(o) if isinstance(o, Source) else o: o for o in
              (_owner(c, sources, others) for c in conjunct.find_all(exp.Column))}
    if not owners:
        return None, "references no generator column"
    if None in owners.values():
        return None, "column not resolved to one relation (qualify it with the generator's alias)"
    if len(owners) > 1:
        return None, "mixes several sources"
    owner = next(iter(owners.values()))
    if not isinstance(owner, Source):
        return None, "does not reference a generator"
    if owner.null_supplying:
        return None, "null-supplying side of an outer join"
    if owner.blocked:
        return None, owner.blocked
    return owner, ""


def _translate(conjunct: exp.Expression, source: Source) -> exp.Expression | None:
    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return source.column_map[node.name.lower()].copy()
        return node
    if any(c.name.lower() not in source.column_map for c in conjunct.find_all(exp.Column)):
        return None
    return conjunct.copy().transform(replace)


def classify_conjuncts(rewrite: Rewrite) -> Rewrite:
    """Attach pushable conjuncts (over generator columns) to their generators; record the rest as skipped."""
    if rewrite.expression is None:
        return rewrite
    for select in rewrite.expression.find_all(exp.Select):
        sources = rewrite.sources.get(id(select))
        if not sources:
            continue
        others = rewrite.other_relations.get(id(select), [])
        for written in split_conjuncts(select.args["where"].this):
            text = written.sql(dialect="duckdb")
            conjunct, reason = bind(written, rewrite.parameters)
            if conjunct is None:
                rewrite.skipped.append(Skipped(text, reason))
                continue
            bound = conjunct.sql(dialect="duckdb") if conjunct is not written else None
            source, reason = _classify(conjunct, sources, others)
            translated = _translate(conjunct, source) if source else None
            if source and translated is None:
                reason = "column not visible through the subquery"
            if translated is not None:
                try:
                    parse_condition(translated.sql(dialect="duckdb", comments=False), source.generator.columns)
                except ConditionError as exc:
                    translated, reason = None, f"outside the condition grammar ({str(exc).split('.')[0]})"
            if translated is None:
                rewrite.skipped.append(Skipped(text, reason))
                continue
            source.generator.pushed.append(translated)
            rewrite.pushed_from.append((source, text, bound))
    return rewrite
