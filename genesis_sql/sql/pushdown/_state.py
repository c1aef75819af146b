"""What the pushdown rules pass along: the parsed query plus what each rule found."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from genesis_sql.schema import ColumnSpec

GENERATOR = "genesis_generate"


@dataclass
class Generator:
    """One ``genesis_generate(...)`` call in the query."""

    call: exp.Anonymous
    model: str
    columns: list[ColumnSpec]
    pushed: list[exp.Expression] = field(default_factory=list)


@dataclass
class Source:
    """A relation of one SELECT that reads a generator, possibly through subqueries or a CTE.

    ``column_map`` maps the relation's visible column names (lower-case) to expressions over the
    generator's columns; ``blocked`` says why nothing may be pushed through it, if so.
    """

    alias: str
    generator: Generator
    column_map: dict[str, exp.Expression]
    null_supplying: bool = False
    blocked: str | None = None


@dataclass(frozen=True)
class Pushed:
    """A conjunct that became part of a generator's condition."""

    model: str
    source: str
    condition: str


@dataclass(frozen=True)
class Skipped:
    """A conjunct that keeps its plain SQL meaning, and why."""

    conjunct: str
    reason: str


@dataclass
class Rewrite:
    """A query on its way through the rules, and the result: rewritten SQL plus what was (not) pushed."""

    original: str
    expression: exp.Expression | None
    columns_of: Callable[[str], list[ColumnSpec] | None]
    generators: list[Generator] = field(default_factory=list)
    sources: dict[int, list[Source]] = field(default_factory=dict)  # id(Select) -> its generator sources
    other_relations: dict[int, list[str]] = field(default_factory=dict)  # id(Select) -> other aliases
    pushed_from: list[tuple[Source, str]] = field(default_factory=list)  # (source, conjunct text)
    pushed: list[Pushed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any conjunct was pushed."""
        return bool(self.pushed)

    @property
    def sql(self) -> str:
        """The SQL to run: the original text, byte for byte, unless something was pushed."""
        if not self.changed or self.expression is None:
            return self.original
        return self.expression.sql(dialect="duckdb")

    def explain(self) -> str:
        """A readable account: the SQL to run, the pushed conditions, and what was not pushed and why."""
        lines = ["-- rewritten SQL" if self.changed else "-- SQL (unchanged)", self.sql, ""]
        if self.pushed:
            lines.append("-- pushed into generators (ConditionSet per call):")
            for item in self.pushed:
                lines.append(f"--   {item.model} (as {item.source}): {item.condition}")
        if self.skipped:
            lines.append("-- not pushed (plain SQL filter on generated rows):")
            for item in self.skipped:
                lines.append(f"--   {item.conjunct}: {item.reason}")
        if not self.pushed and not self.skipped:
            lines.append("-- nothing to push")
        return "\n".join(lines)
