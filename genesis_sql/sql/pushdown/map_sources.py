"""Rule: for every SELECT, find the relations that read a generator and how their columns map onto it.

A relation reads a generator directly (``FROM genesis_generate(...) AS g``), through a subquery whose
body is a simple projection of one generator, or through a CTE referenced once. Nothing is pushed into a
relation past LIMIT/OFFSET, DISTINCT, aggregates, windows or set operations, nor into the
null-supplying side of an outer join: such relations are recorded as blocked, with the reason.
"""
from __future__ import annotations

from sqlglot import exp

from genesis_sql.sql.pushdown._state import Generator, Rewrite, Source

_AGGREGATES = (exp.AggFunc,)


def _blocking_reason(select: exp.Expression) -> str | None:
    """Why rows of this subquery body are not a plain projection of its source, if they are not."""
    if not isinstance(select, exp.Select):
        return "set operation (UNION / INTERSECT / EXCEPT)"
    if select.args.get("limit") or select.args.get("offset") or select.args.get("fetch"):
        return "LIMIT / OFFSET in between"
    if select.args.get("distinct"):
        return "DISTINCT in between"
    if select.args.get("group") or select.args.get("having") or any(
            e.find(*_AGGREGATES) for e in select.expressions):
        return "aggregate in between"
    if any(e.find(exp.Window) for e in select.expressions) or select.args.get("qualify"):
        return "window function in between"
    if select.args.get("joins"):
        return "join inside the subquery"
    return None


def _cte_uses(root: exp.Expression, name: str) -> int:
    return sum(1 for t in root.find_all(exp.Table)
               if isinstance(t.this, exp.Identifier) and t.name.lower() == name and not t.args.get("db"))


def _identity(generator: Generator) -> dict[str, exp.Expression]:
    return {c.name.lower(): exp.column(c.name, quoted=True) for c in generator.columns}


def _through(body: exp.Select, inner: Source) -> Source:
    """The source seen from outside a simple subquery body over ``inner``."""
    mapping: dict[str, exp.Expression] = {}
    for projection in body.expressions:
        if isinstance(projection, exp.Star):
            mapping.update(inner.column_map)
            continue
        name = projection.alias_or_name.lower()
        expression = projection.unalias() if isinstance(projection, exp.Alias) else projection
        mapped = _substitute(expression, inner.column_map)
        if mapped is not None:
            mapping[name] = mapped
    return Source(inner.alias, inner.generator, mapping, blocked=inner.blocked)


def _substitute(expression: exp.Expression, column_map: dict[str, exp.Expression]) -> exp.Expression | None:
    """``expression`` with its columns replaced by their generator-side expressions (None if one is unknown)."""
    missing = [c for c in expression.find_all(exp.Column) if c.name.lower() not in column_map]
    if missing:
        return None

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return column_map[node.name.lower()].copy()
        return node

    return expression.copy().transform(replace)


def _resolve(rewrite: Rewrite, table: exp.Expression, by_call: dict[int, Generator], alias: str,
             ctes: dict[str, exp.CTE]) -> Source | None:
    """The generator source behind one FROM/JOIN item, or None when it reads no generator."""
    if isinstance(table, exp.Table) and isinstance(table.this, exp.Anonymous):
        generator = by_call.get(id(table.this))
        return Source(alias, generator, _identity(generator)) if generator else None
    body: exp.Expression | None = None
    cte_reason = None
    if isinstance(table, exp.Subquery):
        body = table.this
    elif isinstance(table, exp.Table) and table.name.lower() in ctes and not table.args.get("db"):
        body = ctes[table.name.lower()].this
        if _cte_uses(rewrite.expression, table.name.lower()) != 1:
            cte_reason = "CTE referenced more than once"
    if body is None:
        return None
    inner_select = body if isinstance(body, exp.Select) else None
    reason = cte_reason or _blocking_reason(body)
    if inner_select is None or not inner_select.args.get("from_"):
        inner = _any_generator(body, by_call)
        return Source(alias, inner, {}, blocked=reason or "not a plain projection") if inner else None
    from_item = inner_select.args["from_"].this
    inner = _resolve(rewrite, from_item, by_call, alias, ctes)
    if inner is None:
        return None
    source = _through(inner_select, inner)
    source.blocked = source.blocked or reason
    return source


def _any_generator(body: exp.Expression, by_call: dict[int, Generator]) -> Generator | None:
    for call in body.find_all(exp.Anonymous):
        if id(call) in by_call:
            return by_call[id(call)]
    return None


def map_sources(rewrite: Rewrite) -> Rewrite:
    """Record, per SELECT with a WHERE, its generator sources and whether each may take conjuncts."""
    if rewrite.expression is None or not rewrite.generators:
        return rewrite
    by_call = {id(g.call): g for g in rewrite.generators}
    ctes = {cte.alias_or_name.lower(): cte for cte in rewrite.expression.find_all(exp.CTE)}
    for select in rewrite.expression.find_all(exp.Select):
        if not select.args.get("where") or not select.args.get("from_"):
            continue
        joins = select.args.get("joins") or []
        items = [(select.args["from_"].this, any(j.side in ("RIGHT", "FULL") for j in joins))]
        items += [(j.this, j.side in ("LEFT", "FULL")) for j in joins]
        sources, others = [], []
        for item, null_supplying in items:
            alias = item.alias_or_name.lower() if item.alias_or_name else ""
            source = _resolve(rewrite, item, by_call, alias, ctes)
            if source is not None:
                source.null_supplying = null_supplying
                sources.append(source)
            else:
                others.append(alias)
        if sources:
            rewrite.sources[id(select)] = sources
            rewrite.other_relations[id(select)] = others
    return rewrite
