"""``prompt_context``: the models described compactly for an LLM prompt, within a token budget.

For each model: the SQL form, each column's type with its range or values and labels, and three example
queries; before them, how WHERE conditions generation (pushdown) and how ``condition :=`` does the same
in a plain connection. Detail is cut model by model (values first) until the text fits the budget.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genesis_sql.nl.describe import ColumnDescription, ModelDescription
from genesis_sql.nl.intent import identifier, literal

# A rough, tokenizer-free estimate: English and SQL average about four characters per token.
CHARS_PER_TOKEN = 4
DEFAULT_TOKEN_BUDGET = 4000
HEADER = """You write DuckDB SQL for genesis-sql, which generates synthetic rows from fitted models.
One form only: SELECT * FROM genesis_generate('<model>', <n>) WHERE <condition on the model's columns>
- With pushdown (genesis_sql.connect, genesis_query('<sql>'), genesis serve) the WHERE conditions generation:
  all n rows satisfy it. In a plain DuckDB connection WHERE only filters the n rows; there write
  genesis_generate('<model>', <n>, condition := '<condition>') instead. Both name columns unqualified.
- Conditions: comparisons, BETWEEN, IN, IS [NOT] NULL, AND/OR/NOT over the listed columns and values.
  Text values are case-sensitive; use stored values, not labels (labels are shown as value=label).
- Never use other tables, subqueries, or statements other than this one SELECT."""


def _share(value: float) -> str:
    return f"{value:.0%}" if value >= 0.01 else "<1%"


def _column_line(column: ColumnDescription, values: int) -> str:
    parts = [f"- {identifier(column.name)} {column.kind} ({column.sql_type})"]
    if column.min is not None and column.max is not None and (column.kind != "integer" or not column.labels):
        parts.append(f"{literal(column.min)}..{literal(column.max)}")
    if column.values and values and (column.kind in ("categorical", "boolean") or column.labels):
        shown = ", ".join(f"{literal(v.value)}" + (f"={column.labels[v.value]}" if v.value in column.labels else "")
                          + f" {_share(v.share)}" for v in column.values[:values])
        more = len(column.values) - min(values, len(column.values)) + column.other_values
        parts.append(f"values {shown}" + (f" (+{more} more)" if more else ""))
    elif column.labels and values:
        parts.append("labels " + ", ".join(f"{literal(k)}={v}" for k, v in list(column.labels.items())[:values]))
    if column.null_share:
        parts.append(f"NULL {_share(column.null_share)}")
    if column.description:
        parts.append(f"-- {column.description}" + (f" [{column.unit}]" if column.unit else ""))
    return " ".join(parts)


def examples(model: ModelDescription) -> list[str]:
    """Three example queries built from the model's own columns and values."""
    queries = [f"SELECT * FROM genesis_generate('{model.name}', 1000)"]
    numbers = [c for c in model.columns if c.kind in ("integer", "numeric") and c.min is not None and not c.labels]
    categories = [c for c in model.columns if c.kind == "categorical" and c.values]
    conditions: list[str] = []
    if numbers:
        column = numbers[0]
        middle = _round((column.min + column.max) / 2, column)
        conditions.append(f"{identifier(column.name)} > {literal(middle)}")
    if categories:
        column = categories[0]
        conditions.append(f"{identifier(column.name)} = {literal(column.values[0].value)}")
    if conditions:
        queries.append(f"SELECT * FROM genesis_generate('{model.name}', 500) WHERE {' AND '.join(conditions)}")
    if len(numbers) > 1 or numbers and categories:
        column = numbers[-1]
        low = _round(column.min + (column.max - column.min) / 4, column)
        high = _round(column.min + (column.max - column.min) * 3 / 4, column)
        condition = f"{identifier(column.name)} BETWEEN {literal(low)} AND {literal(high)}"
        if categories and len(categories[-1].values) > 1:
            values = categories[-1].values[:2]
            condition += f" AND {identifier(categories[-1].name)} IN ({', '.join(literal(v.value) for v in values)})"
        escaped = condition.replace("'", "''")
        queries.append(f"SELECT * FROM genesis_generate('{model.name}', 100, condition := '{escaped}')")
    return queries


def _round(value: Any, column: ColumnDescription) -> Any:
    if column.kind == "integer":
        return int(round(value))
    return float(f"{value:.3g}")


def model_section(model: ModelDescription, values: int = 20, with_examples: bool = True) -> str:
    """One model's part of the prompt, with up to ``values`` values listed per column."""
    lines = [f"Model {model.name} (version {model.version}, {model.training_rows:,} training rows): "
             f"genesis_generate('{model.name}', n)"]
    lines += [_column_line(c, values) for c in model.columns]
    if model.rules:
        lines.append("Rules every row keeps: " + "; ".join(model.rules))
    if with_examples:
        lines.append("Examples:")
        lines += [f"  {q}" for q in examples(model)]
    return "\n".join(lines)


def render_context(models: Sequence[ModelDescription], max_tokens: int = DEFAULT_TOKEN_BUDGET) -> str:
    """The prompt text for ``models``, cutting detail until it fits ``max_tokens`` (estimated)."""
    budget = max_tokens * CHARS_PER_TOKEN
    for values, with_examples in ((20, True), (8, True), (3, True), (3, False), (0, False)):
        text = "\n\n".join([HEADER] + [model_section(m, values, with_examples) for m in models])
        if len(text) <= budget:
            return text
    names = "\n".join(f"Model {m.name}: " + ", ".join(f"{identifier(c.name)} {c.kind}" for c in m.columns)
                      for m in models)
    return (HEADER + "\n\n" + names)[:budget]


def prompt_context(con: Any, models: Sequence[str] | None = None, *, max_tokens: int = DEFAULT_TOKEN_BUDGET) -> str:
    """Text describing the stored models (or the named ones) for an LLM prompt, within ``max_tokens``.

    Example:
        >>> print(genesis_sql.prompt_context(con, ["workers"], max_tokens=800))     # doctest: +SKIP
    """
    from genesis_sql.nl.ask import descriptions

    return render_context(descriptions(con, models), max_tokens)
